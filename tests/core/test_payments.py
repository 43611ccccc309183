"""Unique amounts, transfer instructions and proof photos."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from core import media
from core.enums import PaymentStatus, RegistrationStatus
from core.models import AuditLog, Payment, PaymentAccount, Registration
from core.payments import amounts, photos
from tests.factories import (
    NOW,
    UNPAID,
    demo_event,
    encode,
    inbound,
    make_registration,
    screenshot,
)


def _photo(session: Session, registration, image=None, file_id=None, **kw):  # type: ignore[no-untyped-def]
    raw = inbound(encode(image or screenshot(registration.amount_due), "PNG"))
    return photos.receive_photo(
        session,
        registration=registration,
        stored_path=raw,
        provider_file_id=file_id,
        now=kw.get("now", NOW + timedelta(hours=1)),
    )


def test_assign_amount_adds_a_unique_code_and_sets_deadlines(session: Session) -> None:
    event = demo_event(session)
    regs = [make_registration(session, event, **UNPAID) for _ in range(30)]
    due = [r.amount_due for r in regs]
    assert len(set(due)) == 30
    for reg in regs:
        assert 1 <= reg.unique_code <= 999
        assert reg.amount_due == 150_000 + reg.unique_code == reg.amount_key
        assert reg.payment_deadline == NOW + timedelta(hours=24)
        assert reg.expires_at == NOW + timedelta(hours=30)


def test_assign_amount_subtract_and_off_modes(session: Session) -> None:
    event = demo_event(session)
    event.unique_code_mode = "subtract"
    reg = make_registration(session, event, **UNPAID)
    assert reg.amount_due == 150_000 - reg.unique_code and reg.unique_code >= 1
    event.unique_code_mode = "off"
    a, b = make_registration(session, event, **UNPAID), make_registration(session, event, **UNPAID)
    assert a.amount_due == b.amount_due == 150_000
    assert a.amount_key is None and a.unique_code == 0


def test_assign_amount_is_idempotent(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    amount = reg.amount_due
    amounts.assign_amount(session, registration=reg, now=NOW + timedelta(days=3))
    assert reg.amount_due == amount and reg.payment_deadline == NOW + timedelta(hours=24)


def test_instructions_list_accounts_amount_deadline_and_qris(session: Session) -> None:
    event = demo_event(session)
    session.add(
        PaymentAccount(
            event_id=event.id, kind="qris", bank_name="QRIS Panitia", qris_image_path="qris/x.png"
        )
    )
    session.add(
        PaymentAccount(event_id=event.id, bank_name="Mandiri", account_number="999", active=False)
    )
    reg = make_registration(session, event, **UNPAID)
    reg.amount_due, reg.unique_code = 150_123, 123
    replies = amounts.instructions(session, registration=reg, language="id")
    text = replies[0].text
    assert "Rp150.123" in text and "BCA" in text and "1234567890" in text
    assert "Yayasan Lari Jakarta" in text and "Mandiri" not in text
    assert "Minggu, 29 Nov 2026 14:00 WIB" in text  # NOW + 24 h, shown in WIB (UTC+7)
    assert "foto" in text
    assert replies[1].image_path == "qris/x.png" and "Rp150.123" in replies[1].text
    english = amounts.instructions(session, registration=reg, language="en")[0].text
    assert "send the *transfer screenshot here as a photo*" in english


def test_photo_moves_to_awaiting_verification_with_acknowledgement(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    result = _photo(session, reg, file_id="uniq-1")
    assert result.ok and not result.duplicate
    assert reg.status == RegistrationStatus.AWAITING_VERIFICATION
    assert "24 jam" in result.replies[0].text and reg.number in result.replies[0].text
    payment = result.payment
    assert payment is not None and payment.status == PaymentStatus.SUBMITTED
    assert payment.images[0].provider_file_id == "uniq-1"
    assert media.resolve(payment.images[0].path).exists()
    assert reg.amount_key == reg.amount_due, "still awaiting payment: the amount stays reserved"


def test_second_photo_joins_the_same_payment(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    first = _photo(session, reg)
    second = _photo(session, reg, image=screenshot(reg.amount_due, ref=99))
    same = _photo(session, reg)  # the very first screenshot again
    assert first.payment is second.payment is same.payment
    session.refresh(first.payment)
    assert len(first.payment.images) == 2
    assert "tambahan" in second.replies[0].text and "sudah kami terima" in same.replies[0].text


def test_bad_image_changes_nothing(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    raw = inbound(b"not an image at all", "bukti.jpg")
    result = photos.receive_photo(
        session, registration=reg, stored_path=raw, provider_file_id=None, now=NOW
    )
    assert not result.ok and "JPG atau PNG" in result.replies[0].text
    assert reg.status == RegistrationStatus.PENDING_PAYMENT
    assert session.scalar(select(Payment).where(Payment.registration_id == reg.id)) is None


@pytest.mark.parametrize("how", ["sha256", "file_id", "phash"])
def test_screenshot_reused_for_another_registration_is_flagged(session: Session, how: str) -> None:
    event = demo_event(session)
    a, b = make_registration(session, event, **UNPAID), make_registration(session, event, **UNPAID)
    original = screenshot(150_500, ref=3)
    first = _photo(session, a, image=original, file_id="tg-unique-A")
    reuse = {
        "sha256": (original, None),
        "file_id": (screenshot(999, ref=4), "tg-unique-A"),
        "phash": (original.resize((700, 1244)), None),
    }[how]
    second = _photo(session, b, image=reuse[0], file_id=reuse[1])
    assert second.ok and second.duplicate
    assert second.payment.flags["duplicate_of"] == [first.payment.id]
    assert second.payment.flags["duplicates"][0]["match"] == how
    assert b.status == RegistrationStatus.AWAITING_VERIFICATION, "flagged, not refused"
    assert not first.payment.flags.get("duplicate_of")


def test_different_transfers_are_not_flagged(session: Session) -> None:
    event = demo_event(session)
    a, b = make_registration(session, event, **UNPAID), make_registration(session, event, **UNPAID)
    _photo(session, a, image=screenshot(150_111, ref=1))
    assert not _photo(session, b, image=screenshot(250_999, ref=2)).duplicate


def test_photo_for_paid_or_expired_registration_is_refused(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    reg.status = RegistrationStatus.EXPIRED.value
    result = _photo(session, reg)
    assert not result.ok and "DAFTAR" in result.replies[0].text
    reg.status = RegistrationStatus.PAID.value
    assert "lunas" in _photo(session, reg).replies[0].text


def test_one_photo_for_several_registrations(session: Session) -> None:
    event = demo_event(session)
    a = make_registration(session, event, chat_id="777", **UNPAID)
    b = make_registration(session, event, chat_id="777", **UNPAID)
    waiting = amounts.awaiting_payment(session, channel="telegram", chat_id="777")
    assert [r.id for r in waiting] == [a.id, b.id]
    ask = amounts.choose_registration_reply(waiting, "id")
    assert a.number in ask.text and "Semua" in ask.text and len(ask.choices) == 3
    raw = inbound(encode(screenshot(a.amount_due + b.amount_due), "PNG"))
    result = photos.receive_photo_group(
        session, registrations=waiting, stored_path=raw, provider_file_id=None, now=NOW
    )
    assert result.ok and not result.duplicate and len(result.payments) == 2
    assert result.payments[0].flags["group"] == [a.id, b.id]
    assert a.status == b.status == RegistrationStatus.AWAITING_VERIFICATION


def test_photo_is_audited(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    _photo(session, reg)
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.subject_id == str(reg.id))
    ).all()
    assert "payment.photo_received" in actions


def test_unique_code_overflows_to_four_digits_when_1_to_999_are_taken(session: Session) -> None:
    event = demo_event(session)
    first = make_registration(
        session, event, status=RegistrationStatus.PENDING_PAYMENT, amount="none"
    )
    price = first.price
    # 999 registrations awaiting payment at this price, holding every three-digit code.
    session.execute(
        insert(Registration),
        [
            {
                "number": f"OVF-{first.id}-{code}",
                "event_id": event.id,
                "category_id": first.category_id,
                "participant_id": first.participant_id,
                "status": RegistrationStatus.PENDING_PAYMENT.value,
                "channel": "telegram",
                "chat_id": f"ovf{code}",
                "price": price,
                "unique_code": code,
                "amount_due": price + code,
                "amount_key": price + code,
            }
            for code in amounts.CODE_RANGE
        ],
    )
    amounts.assign_amount(session, registration=first, now=NOW)
    assert 1000 <= first.unique_code <= 9999
    assert first.amount_due == first.amount_key == price + first.unique_code
    other = make_registration(session, event, **UNPAID)
    assert 1000 <= other.unique_code <= 9999 and other.amount_due != first.amount_due
    # A code freed by an expiry is used again before the overflow range.
    session.execute(
        update(Registration)
        .where(Registration.event_id == event.id, Registration.amount_key == price + 500)
        .values(amount_key=None, status=RegistrationStatus.EXPIRED.value)
    )
    third = make_registration(session, event, **UNPAID)
    assert third.unique_code == 500
