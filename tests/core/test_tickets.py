"""Ticket tokens and the PNG: a decodable QR that verifies; tampered and old tokens refused."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.enums import RegistrationStatus
from core.models import OutboundMessage
from core.services import fulfilment, tickets
from core.services.ticket_image import HEIGHT, WIDTH, fit
from tests.core.fulfilment_factories import demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def decode_qr(png: bytes) -> str:
    """Decode the QR code in a PNG with OpenCV (independent of the qrcode package)."""
    array = np.frombuffer(png, dtype=np.uint8)
    image = cv2.imdecode(array, cv2.IMREAD_COLOR)
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert points is not None, "no QR code found"
    return str(text)


def paid(session: Session, **kwargs: object):  # type: ignore[no-untyped-def]
    reg = make_registration(session, demo_event(session), **kwargs)  # type: ignore[arg-type]
    fulfilment.mark_paid(session, registration=reg, actor="t", now=NOW)
    return reg


def test_token_shape() -> None:
    token = tickets.new_token()
    assert len(token) == 32 and set(token) <= set(tickets.ALPHABET)
    assert not set("01OIL") & set(tickets.ALPHABET)
    assert tickets.normalise_token(token.lower()) == token
    assert tickets.normalise_token("JFR-10K-0001") is None


def test_ticket_qr_decodes_to_a_token_that_verifies(session: Session) -> None:
    reg = paid(session)
    png = tickets.render_ticket_png(reg, "id")
    assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)
    decoded = decode_qr(png)
    assert decoded == reg.ticket_token
    assert reg.bib not in decoded and reg.number not in decoded
    assert tickets.find_by_token(session, decoded) is reg


def test_tampered_and_old_tokens_are_refused(session: Session) -> None:
    reg = paid(session)
    token = reg.ticket_token or ""
    other = "2" if token[5] != "2" else "3"
    assert tickets.find_by_token(session, token[:5] + other + token[6:]) is None
    assert tickets.find_by_token(session, token[:-1]) is None
    assert tickets.find_by_token(session, reg.number) is None

    tickets.reissue(session, registration=reg, actor="staff:1")  # e.g. moved to another category
    assert reg.ticket_token and reg.ticket_token != token and reg.ticket_version == 2
    assert tickets.find_by_token(session, token) is None
    assert tickets.find_by_token(session, reg.ticket_token) is reg


def test_cancel_revokes_the_ticket(session: Session) -> None:
    reg = paid(session)
    token = reg.ticket_token or ""
    reg.status = RegistrationStatus.CANCELLED.value
    tickets.reissue(session, registration=reg, actor="staff:1")
    assert reg.ticket_token is None
    assert tickets.find_by_token(session, token) is None
    assert tickets.ticket_reply(session, registration=reg, language="id") is None


@pytest.mark.parametrize(
    "name",
    [
        "Raden Ajeng Siti Nurhaliza Kartika Dewi Purnamasari Wulandari binti Haji Abdurrahman",
        "Ἀλέξανδρος Παπαδόπουλος-Κωνσταντινίδης",
        "Жанна Александровна Константинопольская",
        "山田太郎 やまだたろう",
        "Pneumonoultramicroscopicsilicovolcanoconiosis-Supercalifragilistic",
    ],
)
def test_long_and_non_latin_names_fit(session: Session, name: str) -> None:
    reg = paid(session, full_name=name)
    png = tickets.render_ticket_png(reg, "en")
    assert Image.open(io.BytesIO(png)).size == (WIDTH, HEIGHT)
    assert decode_qr(png) == reg.ticket_token
    font, lines = fit(name, width=WIDTH - 112, size=54, min_size=26, max_lines=2, bold=True)
    assert len(lines) <= 2
    assert all(font.getlength(line) <= WIDTH - 112 for line in lines)


def test_ticket_reply_renders_once_into_private_media(session: Session) -> None:
    reg = paid(session, language="en")
    reply = tickets.ticket_reply(session, registration=reg, language="en")
    assert reply is not None and reply.image_path and reply.kind == "ticket"
    assert reply.image_path.startswith("tickets/")
    assert reg.bib and reg.bib in reply.text and "e-ticket" in reply.text
    path = Path(get_settings().media_dir) / reply.image_path
    assert decode_qr(path.read_bytes()) == reg.ticket_token
    again = tickets.ticket_reply(session, registration=reg, language="en")
    assert again is not None and again.image_path == reply.image_path


def test_queue_ticket_is_idempotent_per_version(session: Session) -> None:
    reg = paid(session)
    first = tickets.queue_ticket(session, registration=reg)
    second = tickets.queue_ticket(session, registration=reg)
    assert [r.id for r in first] == [r.id for r in second]
    assert first[0].idempotency_key == f"ticket:{reg.id}:1"
    assert first[0].media_path and first[0].recipient == reg.chat_id
    tickets.reissue(session, registration=reg, actor="t")
    third = tickets.queue_ticket(session, registration=reg)
    assert third[0].id != first[0].id
    rows = session.scalars(
        select(OutboundMessage).where(OutboundMessage.registration_id == reg.id)
    ).all()
    assert len(rows) == 2


def test_unpaid_registration_has_no_ticket(session: Session) -> None:
    reg = make_registration(session, demo_event(session))
    assert tickets.queue_ticket(session, registration=reg) == []


def test_cjk_names_use_the_bundled_fallback_font() -> None:
    from core.services.ticket_image import BOLD, FALLBACKS, font_for

    assert font_for("Siti Aminah", bold=True) == BOLD
    assert font_for("山田太郎", bold=True) == FALLBACKS[0]
    assert FALLBACKS[0].exists()
