"""WhatsApp payment photos through the fake Fonnte server: the `type` field and the bytes decide."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pillow_heif import register_heif_opener
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import RegistrationStatus
from core.i18n import t
from core.models import Payment, PaymentImage, Registration
from tests.channels.helpers import fixture, fonnte_path, wait_until
from tests.factories import UNPAID, demo_event, make_registration

SENDER = "6281234567890"  # the sender of tests/fixtures/fonnte/*.json
register_heif_opener()


def _image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 480), (20, 90, 160)).save(buffer, format=fmt)
    return buffer.getvalue()


def _waiting_registration() -> tuple[int, str]:
    with unit_of_work() as uow:
        reg = make_registration(
            uow.session, demo_event(uow.session), channel="whatsapp", chat_id=SENDER, **UNPAID
        )
        return reg.id, reg.number


@pytest.mark.parametrize(
    ("name", "content", "overrides"),
    [
        ("a91f0c", _image("PNG"), {"type": "image", "extension": "", "filename": ""}),
        ("IMG_0001.heic", _image("HEIF"), {"type": "document", "extension": "heic"}),
        ("kiriman", _image("JPEG"), {"type": "document", "extension": "", "filename": ""}),
    ],
)
def test_whatsapp_image_is_accepted_by_type_or_content(
    client: TestClient, channels: Any, name: str, content: bytes, overrides: dict[str, Any]
) -> None:
    _fake_telegram, fake_fonnte = channels
    reg_id, number = _waiting_registration()
    url = fake_fonnte.add_media(name, content)
    client.post(fonnte_path(), json=fixture("fonnte", "image", url=url, **overrides))
    wait_until(lambda: fake_fonnte.sent_texts(SENDER), what="the acknowledgement")
    [reply] = fake_fonnte.sent_texts(SENDER)
    assert number in reply and "Terima kasih" in reply, reply
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert reg.status == RegistrationStatus.AWAITING_VERIFICATION
        stored = session.scalars(
            select(PaymentImage.path)
            .join(Payment, Payment.id == PaymentImage.payment_id)
            .where(Payment.registration_id == reg_id)
        ).one()
    assert stored.endswith((".jpg", ".png")), "HEIC is kept as a re-encoded JPEG"


def test_whatsapp_file_that_is_no_image_gets_a_clear_reply(
    client: TestClient, channels: Any
) -> None:
    _fake_telegram, fake_fonnte = channels
    reg_id, _number = _waiting_registration()
    url = fake_fonnte.add_media("dokumen", b"%PDF-1.4 not an image at all")
    client.post(
        fonnte_path(),
        json=fixture("fonnte", "image", url=url, type="document", extension="", filename=""),
    )
    wait_until(lambda: fake_fonnte.sent_texts(SENDER), what="the refusal")
    assert fake_fonnte.sent_texts(SENDER) == [t("payment.image.not_image", "id")]
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert reg.status == RegistrationStatus.PENDING_PAYMENT
