"""Media disk full: the runner is told, nothing of theirs is lost, a resend after freeing is kept.

MEDIA_DIR is a real 512 KiB tmpfs filled to the last block (root mounts it), so the failure is
the kernel's ENOSPC on the webhook + worker path, not a stand-in.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from core import media
from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.i18n import t
from core.models import InboundUpdate, Payment, PaymentImage, Registration
from core.payments import photos
from core.storage.s3 import S3Storage
from flows import consent as flow_consent
from tests.channels.helpers import fixture, fonnte_path, wait_until, webhook_app
from tests.factories import UNPAID, demo_event, make_registration

SENDER = "6281234567890"  # the sender of tests/fixtures/fonnte/image.json
NOT_STORED = t("faults.photo_not_stored", "id")


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 480), (20, 90, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def _fill(folder: Path) -> Path:
    """Write zeros until the filesystem refuses (ENOSPC); return the filler file."""
    filler = folder / "filler.bin"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


@pytest.fixture
def small_media_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "media"
    folder.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)], capture_output=True
    )
    assert mount.returncode == 0, f"tmpfs mount failed (the test needs root): {mount.stderr!r}"
    monkeypatch.setenv("MEDIA_DIR", str(folder))
    monkeypatch.delenv("MEDIA_URL", raising=False)
    get_settings.cache_clear()
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)
        get_settings.cache_clear()


@pytest.fixture
def whatsapp(
    fake_fonnte: Any, worker: Any, small_media_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, Any]]:
    monkeypatch.setenv("FONNTE_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("FONNTE_CHAT_MAX_PER_SECOND", "1000")
    get_settings.cache_clear()
    with TestClient(webhook_app(), raise_server_exceptions=False) as client:
        yield client, fake_fonnte


def _waiting_registration() -> tuple[int, str]:
    with unit_of_work() as uow:
        reg = make_registration(
            uow.session, demo_event(uow.session), channel="whatsapp", chat_id=SENDER, **UNPAID
        )
        return reg.id, reg.number


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_full_media_disk_tells_the_runner_and_a_resend_after_freeing_is_kept(
    whatsapp: tuple[TestClient, Any], small_media_disk: Path
) -> None:
    client, fake = whatsapp
    reg_id, number = _waiting_registration()
    filler = _fill(small_media_disk)
    url = fake.add_media("bukti.png", _png())

    answer = client.post(fonnte_path(), json=fixture("fonnte", "image", url=url, inboxid=9001))
    assert answer.status_code == 200
    wait_until(lambda: fake.sent_texts(SENDER), what="the not-stored reply")
    assert fake.sent_texts(SENDER) == [NOT_STORED]
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert reg.status == RegistrationStatus.PENDING_PAYMENT  # registration and state kept
        [update] = session.scalars(select(InboundUpdate)).all()
        assert update.processed_at is not None and update.error == "not_stored"
        assert session.scalars(select(Payment)).all() == []
    assert _files(small_media_disk) == ["filler.bin"], "no partial download left behind"

    filler.unlink()  # the operator frees space; the runner sends the photo again
    client.post(fonnte_path(), json=fixture("fonnte", "image", url=url, inboxid=9002))
    wait_until(lambda: len(fake.sent_texts(SENDER)) == 2, what="the acknowledgement")
    assert number in fake.sent_texts(SENDER)[1] and "Terima kasih" in fake.sent_texts(SENDER)[1]
    with get_sessionmaker()() as session:
        reg = session.get(Registration, reg_id)
        assert reg.status == RegistrationStatus.AWAITING_VERIFICATION  # ready for the verifier
        stored = session.scalars(select(PaymentImage.path)).one()
    assert media.exists(stored)


def _block(folder: Path, subdir: str) -> None:
    """Make writes under ``subdir`` fail for real: a plain file where the folder should be."""
    shutil.rmtree(folder / subdir, ignore_errors=True)
    (folder / subdir).write_bytes(b"")


def test_clean_copy_that_cannot_be_written_changes_nothing(
    session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    get_settings.cache_clear()
    reg = make_registration(session, demo_event(session), **UNPAID)
    media.save("inbound/raw.png", _png())
    _block(tmp_path, "payments")
    result = photos.receive_photo(
        session, registration=reg, stored_path="inbound/raw.png", provider_file_id=None,
        now=utcnow(),
    )  # fmt: skip
    get_settings.cache_clear()
    assert not result.ok and [r.text for r in result.replies] == [NOT_STORED]
    assert reg.status == RegistrationStatus.PENDING_PAYMENT
    assert session.scalars(select(Payment)).all() == []


def test_consent_letter_that_cannot_be_written_asks_for_a_resend(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    get_settings.cache_clear()
    media.save("inbound/letter.png", _png())
    _block(tmp_path, "consent-letters")
    answer = flow_consent.keep_draft_letter("inbound/letter.png", "en")
    get_settings.cache_clear()
    assert getattr(answer, "text", None) == t("faults.photo_not_stored", "en")


def test_s3_put_refused_is_storage_unavailable(s3_endpoint: str) -> None:
    from core.errors import StorageUnavailable

    store = S3Storage(
        "s3://no-such-bucket/media", endpoint_url=s3_endpoint, region_name="us-east-1",
        aws_access_key_id="k", aws_secret_access_key="s",
    )  # fmt: skip
    with pytest.raises(StorageUnavailable):
        store.put("payments/x.jpg", b"data")
