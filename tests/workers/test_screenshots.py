"""The OCR worker: every stored payment photo is read after its commit; failures never block."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from bench.ocr_corpus import Truth, render
from core import media
from core.db import get_sessionmaker, unit_of_work
from core.enums import RegistrationStatus
from core.models import (
    AuditLog,
    PaymentAccount,
    PaymentImage,
    Registration,
    ScreenshotReading,
    StatementLine,
)
from core.payments import photos
from core.payments.screenshot_reading import service
from tests.factories import (
    NOW,
    UNPAID,
    demo_event,
    encode,
    inbound,
    later,
    make_registration,
    make_staff,
)

ACCOUNT = "2680402549"


def _registration_with_photo(*, shown: int | None = None, auto: bool = False) -> dict[str, int]:
    """A registration whose runner sends a BCA screenshot of ``shown`` (default: what is due)."""
    with unit_of_work() as uow:
        session = uow.session
        event = demo_event(session)
        event.registration_opens_at = NOW - timedelta(days=7)
        event.registration_closes_at = NOW + timedelta(days=7)
        session.execute(delete(PaymentAccount))
        account = PaymentAccount(event_id=event.id, bank_name="BCA", account_number=ACCOUNT,
                                 holder_name="YAYASAN LARI NUSANTARA")  # fmt: skip
        session.add(account)
        registration = make_registration(session, event, **UNPAID)
        registration.created_at = NOW
        session.flush()
        if auto:
            session.add(StatementLine(event_id=event.id, account_id=account.id, reference="R-9",
                                      amount=registration.amount_due, posted_at="28/11"))  # fmt: skip
            service.set_auto_approve(session, event_id=event.id, enabled=True,
                                     actor=make_staff(session), now=NOW)  # fmt: skip
        truth = Truth(shown or registration.amount_due, (NOW + timedelta(hours=7, minutes=20)).replace(tzinfo=None),
                      "BUDI SANTOSO", ACCOUNT, "YAYASAN LARI NUSANTARA", "BCA", "Berhasil",
                      "872528295486")  # fmt: skip
        image = render("bca", truth)
        photos.receive_photo(session, registration=registration,
                             stored_path=inbound(encode(image, "PNG"), "s.png"),
                             provider_file_id=None, now=later(0.5))  # fmt: skip
        return {"registration": registration.id, "due": registration.amount_due}


def _reading(registration_id: int) -> ScreenshotReading | None:
    with get_sessionmaker()() as session:
        return session.scalars(
            select(ScreenshotReading)
            .join(PaymentImage, PaymentImage.id == ScreenshotReading.image_id)
            .join(Registration, Registration.id == registration_id)
        ).first()


def test_photo_is_read_after_commit(broker: Any, worker: Any) -> None:
    ids = _registration_with_photo()
    broker.join("default", timeout=60_000)
    worker.join()
    reading = _reading(ids["registration"])
    assert reading is not None and reading.status == service.READ
    assert reading.amount == ids["due"] and reading.account == ACCOUNT
    assert reading.engine == "tesseract" and reading.elapsed_ms > 0
    assert reading.boxes["amount"][3] > reading.boxes["amount"][1]


def test_missing_file_is_a_failed_reading_not_an_error(
    broker: Any, worker: Any, committed_db: None
) -> None:
    from workers.screenshots import read_once

    worker.stop()  # read by hand, after deleting the stored file
    broker.flush_all()
    ids = _registration_with_photo()
    with get_sessionmaker()() as session:
        image = session.scalars(select(PaymentImage)).one()
        media.resolve(image.path).unlink()
        image_id = image.id
    assert read_once(image_id) == service.FAILED
    assert read_once(image_id) is None  # stored once
    reading = _reading(ids["registration"])
    assert reading is not None and reading.error and "FileNotFoundError" in reading.error


def test_sweep_finds_images_without_reading(broker: Any, worker: Any) -> None:
    worker.stop()
    broker.flush_all()
    _registration_with_photo()
    with get_sessionmaker()() as session:
        assert len(service.unread_images(session, since=NOW - timedelta(days=3650))) == 1


def test_auto_approve_when_screenshot_and_statement_agree(broker: Any, worker: Any) -> None:
    ids = _registration_with_photo(auto=True)
    broker.join("default", timeout=60_000)
    worker.join()
    with get_sessionmaker()() as session:
        registration = session.get(Registration, ids["registration"])
        assert registration.status == RegistrationStatus.PAID.value
        assert session.scalar(select(AuditLog.id).where(AuditLog.action == "payment.auto_approved"))
        line = session.scalars(select(StatementLine)).one()
        assert line.status == "approved"


def test_no_auto_approve_when_amount_differs(broker: Any, worker: Any) -> None:
    ids = _registration_with_photo(shown=100_001, auto=True)
    broker.join("default", timeout=60_000)
    worker.join()
    with get_sessionmaker()() as session:
        registration = session.get(Registration, ids["registration"])
        assert registration.status == RegistrationStatus.AWAITING_VERIFICATION.value
    reading = _reading(ids["registration"])
    assert reading is not None and reading.amount == 100_001
