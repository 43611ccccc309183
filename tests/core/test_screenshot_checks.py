"""Checks of a screenshot reading against the registration, the event's accounts and other payments."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.errors import Conflict
from core.models import (
    AuditLog,
    Payment,
    PaymentAccount,
    PaymentImage,
    ScreenshotCorrection,
    ScreenshotReading,
    StatementLine,
)
from core.payments.screenshot_reading import service
from core.payments.screenshot_reading.checks import check_payment
from core.payments.screenshot_reading.extract import Reading
from tests.factories import (
    NOW,
    UNPAID,
    demo_event,
    later,
    make_registration,
    make_staff,
    send_photo,
)

ACCOUNT = "2680402549"


def _setup(session: Session):  # noqa: ANN202
    event = demo_event(session)
    session.execute(delete(PaymentAccount))
    session.add(PaymentAccount(event_id=event.id, bank_name="BCA", account_number="268-040-2549",
                               holder_name="Yayasan Lari Nusantara"))  # fmt: skip
    registration = make_registration(session, event, **UNPAID)
    registration.created_at = NOW
    event.registration_opens_at, event.registration_closes_at = NOW - timedelta(days=7), later(48)
    payment = send_photo(session, registration).payment
    return event, registration, payment


def _read(session: Session, payment: Payment, **fields: object) -> ScreenshotReading:
    image = session.scalars(select(PaymentImage).where(PaymentImage.payment_id == payment.id)).one()
    local = (NOW + timedelta(hours=7, minutes=30)).replace(tzinfo=None)  # 14:30 WIB
    values = {"amount": payment.registration.amount_due, "when": local, "account": ACCOUNT,
              "holder": "YAYASAN LARI NUSANTARA", "status": "Berhasil", "reference": "872528295486",
              "bank": "BCA"}  # fmt: skip
    values.update(fields)
    reading = Reading(**values, boxes={"amount": (10, 20, 200, 60)})  # type: ignore[arg-type]
    assert service.record(session, image_id=image.id, reading=reading, status=service.READ,
                          engine="test", elapsed_ms=5)  # fmt: skip
    return session.scalars(
        select(ScreenshotReading).where(ScreenshotReading.image_id == image.id)
    ).one()


def _by_name(session: Session, payment: Payment) -> dict[str, bool | None]:
    checks = check_payment(session, payment, now=later(2))
    assert checks is not None
    return {c.name: c.ok for c in checks.items}


def test_all_green_when_everything_agrees(session: Session) -> None:
    _event, _registration, payment = _setup(session)
    _read(session, payment)
    checks = check_payment(session, payment, now=later(2))
    assert checks is not None, checks
    assert checks.all_green, checks.items
    assert checks.difference == 0
    assert [p.id for p in service.green_payments(session, now=later(2))] == [payment.id]


def test_short_amount_shows_the_difference(session: Session) -> None:
    _event, registration, payment = _setup(session)
    _read(session, payment, amount=registration.amount_due - 50_000)
    checks = check_payment(session, payment, now=later(2))
    assert checks is not None and not checks.all_green
    assert checks.difference == -50_000
    assert "short by Rp50.000" in checks.get("amount").detail


def test_destination_and_date_and_status_are_checked(session: Session) -> None:
    _event, _registration, payment = _setup(session)
    before = (NOW + timedelta(hours=7) - timedelta(days=1)).replace(tzinfo=None)
    _read(session, payment, account="9999999999", when=before, status="Gagal")
    result = _by_name(session, payment)
    assert result["destination"] is False and result["date"] is False
    assert result["status"] is False


def test_holder_alone_matches_our_account(session: Session) -> None:
    _event, _registration, payment = _setup(session)
    _read(session, payment, account=None, holder="YAYASAN LARI NUSANTARA")
    assert _by_name(session, payment)["destination"] is True


def test_reference_used_by_another_registration_is_a_fraud_flag(session: Session) -> None:
    event, _registration, payment = _setup(session)
    _read(session, payment)
    other = make_registration(session, event, **UNPAID)
    other_payment = send_photo(session, other, ref=2).payment
    _read(session, other_payment, amount=other.amount_due)
    result = _by_name(session, other_payment)
    assert result["reference"] is False
    checks = check_payment(session, other_payment, now=later(2))
    assert checks is not None and not checks.all_green
    assert payment.registration.number in checks.get("reference").detail


def test_unread_field_is_unknown_not_green(session: Session) -> None:
    _event, _registration, payment = _setup(session)
    _read(session, payment, amount=None)
    checks = check_payment(session, payment, now=later(2))
    assert checks is not None and checks.get("amount").ok is None and not checks.all_green


def test_unreadable_screenshot_has_no_checks(session: Session) -> None:
    _event, _registration, payment = _setup(session)
    image = session.scalars(select(PaymentImage).where(PaymentImage.payment_id == payment.id)).one()
    service.record(session, image_id=image.id, reading=None, status=service.FAILED,
                   engine="tesseract", elapsed_ms=3, error="boom")  # fmt: skip
    assert check_payment(session, payment, now=later(2)) is None
    # a second worker's copy of the same image is ignored
    assert not service.record(session, image_id=image.id, reading=Reading(amount=1000),
                              status=service.READ, engine="x", elapsed_ms=1)  # fmt: skip


def test_correction_is_stored_counted_and_used(session: Session) -> None:
    _event, registration, payment = _setup(session)
    reading = _read(session, payment, amount=registration.amount_due + 1)
    admin = make_staff(session)
    service.correct(session, reading_id=reading.id, field="amount",
                    value=f"Rp {registration.amount_due:,}".replace(",", "."), actor=admin)  # fmt: skip
    row = session.scalars(select(ScreenshotCorrection)).one()
    assert row.read_value == str(registration.amount_due + 1)
    assert service.corrections_by_field(session) == {"amount": 1}
    assert _by_name(session, payment)["amount"] is True
    assert session.scalar(select(AuditLog.id).where(AuditLog.action == "ocr.field_corrected"))


def test_bad_correction_is_refused(session: Session) -> None:
    _event, _registration, payment = _setup(session)
    reading = _read(session, payment)
    admin = make_staff(session)
    for field, value in (("amount", "lots"), ("when", "yesterday"), ("status", "x")):
        try:
            service.correct(session, reading_id=reading.id, field=field, value=value, actor=admin)
        except Conflict:
            continue
        raise AssertionError(field)


def test_statement_credit_agreeing_is_found_and_setting_is_off_by_default(session: Session) -> None:
    event, registration, payment = _setup(session)
    _read(session, payment)
    assert service.auto_approver(session, event.id) is None
    account = session.scalars(select(PaymentAccount)).one()
    session.add(StatementLine(event_id=event.id, account_id=account.id, reference="R1",
                              amount=registration.amount_due, posted_at="28/11"))  # fmt: skip
    session.flush()
    checks = check_payment(session, payment, now=later(2))
    assert checks is not None
    assert service.statement_credit(session, payment, checks) is not None
    admin = make_staff(session)
    service.set_auto_approve(session, event_id=event.id, enabled=True, actor=admin,
                             now=datetime.now().astimezone())  # fmt: skip
    assert service.auto_approver(session, event.id) == admin
