"""Approval (full, partial, over), idempotency, statement approvals and the rejection loop."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import PaymentStatus, RegistrationStatus
from core.errors import Conflict
from core.models import AuditLog, OutboundMessage, Payment
from core.payments import deadlines, rejection, verification
from tests.factories import (
    NOW,
    UNPAID,
    demo_event,
    later,
    make_registration,
    make_staff,
    send_photo,
)


def _with_photo(session: Session, **kw):  # type: ignore[no-untyped-def]
    reg = make_registration(session, demo_event(session), **kw, **UNPAID)
    result = send_photo(session, reg, hours=1)
    assert result.payment is not None
    return reg, result.payment


def _audits(session: Session, action: str) -> int:
    return session.scalar(select(func.count()).where(AuditLog.action == action)) or 0


def test_approve_marks_paid_and_frees_the_amount(session: Session) -> None:
    reg, payment = _with_photo(session)
    admin = make_staff(session)
    result = verification.approve(session, payment_id=payment.id, actor=admin, now=later(2))
    assert result.changed and result.paid and result.status == RegistrationStatus.PAID
    assert reg.status == RegistrationStatus.PAID and reg.amount_key is None and reg.bib
    assert payment.status == PaymentStatus.APPROVED and payment.verified_by_id == admin.id
    assert payment.amount_received == reg.amount_due == reg.amount_received
    assert "sudah kami terima" in result.outbound[0].text
    assert _audits(session, "payment.approved") == 1


def test_approve_twice_returns_who_approved_first(session: Session) -> None:
    reg, payment = _with_photo(session)
    first_admin, second_admin = make_staff(session), make_staff(session)
    verification.approve(session, payment_id=payment.id, actor=first_admin, now=later(2))
    again = verification.approve(session, payment_id=payment.id, actor=second_admin, now=later(3))
    assert not again.changed and not again.paid
    assert first_admin.email in (again.by or "") and again.at == later(2)
    assert _audits(session, "payment.approved") == 1
    assert payment.verified_by_id == first_admin.id


def test_partial_payment_then_top_up(session: Session) -> None:
    reg, payment = _with_photo(session)
    admin = make_staff(session)
    short = reg.amount_due - 50_000
    result = verification.approve(
        session, payment_id=payment.id, actor=admin, amount_received=short, now=later(2)
    )
    assert result.changed and not result.paid and result.shortfall == 50_000
    assert reg.status == RegistrationStatus.PARTIALLY_PAID and reg.amount_key == reg.amount_due
    assert "Rp50.000" in result.outbound[0].text and result.outbound[0].recipient == reg.chat_id
    top_up = send_photo(session, reg, hours=3, amount=50_000, ref=5)
    assert top_up.ok and top_up.payment is not None and top_up.payment.id != payment.id
    done = verification.approve(
        session, payment_id=top_up.payment.id, actor=admin, amount_received=50_000, now=later(4)
    )
    assert (
        done.paid
        and reg.status == RegistrationStatus.PAID
        and reg.amount_received == reg.amount_due
    )


def test_overpayment_is_noted_for_refund(session: Session) -> None:
    reg, payment = _with_photo(session)
    result = verification.approve(
        session,
        payment_id=payment.id,
        actor=make_staff(session),
        amount_received=reg.amount_due + 25_000,
        now=later(2),
    )
    assert result.paid and result.refund_due == 25_000
    assert payment.flags["refund_due"] == 25_000
    assert _audits(session, "payment.overpaid") == 1


def test_approve_registration_from_statement_needs_no_photo(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    result = verification.approve_registration(
        session,
        registration_id=reg.id,
        actor=make_staff(session),
        amount_received=reg.amount_due,
        reference="BCA:0111/FTSCY/WS95051",
        now=later(2),
    )
    assert result.paid and reg.status == RegistrationStatus.PAID
    payment = session.get(Payment, result.payment_id)
    assert payment is not None and payment.source == "statement"
    assert payment.flags["statement_reference"] == "BCA:0111/FTSCY/WS95051"


def test_statement_approval_reuses_the_open_photo_payment(session: Session) -> None:
    reg, payment = _with_photo(session)
    result = verification.approve_registration(
        session,
        registration_id=reg.id,
        actor=make_staff(session),
        amount_received=reg.amount_due,
        reference="ref-1",
        now=later(2),
    )
    assert result.payment_id == payment.id and payment.status == PaymentStatus.APPROVED


def test_rejection_loop(session: Session) -> None:
    reg, payment = _with_photo(session)
    admin = make_staff(session)
    outcome = rejection.reject(
        session, payment_id=payment.id, actor=admin, reason="unreadable", now=later(20)
    )
    assert outcome.changed and reg.status == RegistrationStatus.REJECTED
    assert reg.payment_deadline == later(20 + 24) and reg.expires_at == later(20 + 24 + 6)
    message = outcome.outbound[0]
    assert "tidak terbaca" in message.text and message.recipient == reg.chat_id
    assert message.registration_id == reg.id
    assert not rejection.reject(
        session, payment_id=payment.id, actor=admin, reason="unreadable", now=later(21)
    ).changed
    retry = send_photo(session, reg, hours=22, ref=8)
    assert retry.ok and retry.payment is not None and retry.payment.id != payment.id
    assert reg.status == RegistrationStatus.AWAITING_VERIFICATION
    assert verification.approve(
        session, payment_id=retry.payment.id, actor=admin, now=later(23)
    ).paid


def test_free_text_reason_and_presets(session: Session) -> None:
    assert set(rejection.PRESET_REJECT_REASONS) == {
        "amount_mismatch",
        "unreadable",
        "wrong_account",
        "duplicate",
        "other",
    }
    for labels in rejection.PRESET_REJECT_REASONS.values():
        assert labels["id"] and labels["en"]
    reg, payment = _with_photo(session, language="en")
    result = rejection.reject(
        session,
        payment_id=payment.id,
        actor=make_staff(session),
        reason="Nama pengirim beda",
        now=NOW,
    )
    assert "Nama pengirim beda" in result.outbound[0].text
    assert result.deadline == NOW + timedelta(hours=24)


def test_rejecting_an_approved_payment_is_a_conflict(session: Session) -> None:
    reg, payment = _with_photo(session)
    admin = make_staff(session)
    verification.approve(session, payment_id=payment.id, actor=admin, now=later(2))
    with pytest.raises(Conflict):
        rejection.reject(session, payment_id=payment.id, actor=admin, reason="other", now=later(3))


def test_approving_an_expired_registration_is_a_conflict(session: Session) -> None:
    reg, payment = _with_photo(session)
    reg.status = RegistrationStatus.EXPIRED.value
    with pytest.raises(Conflict):
        verification.approve(
            session, payment_id=payment.id, actor=make_staff(session), now=later(2)
        )


def test_outbound_rows_are_written(session: Session) -> None:
    reg, payment = _with_photo(session)
    verification.approve(session, payment_id=payment.id, actor=make_staff(session), now=later(2))
    rows = session.scalars(
        select(OutboundMessage).where(OutboundMessage.registration_id == reg.id)
    ).all()
    notices = [r for r in rows if r.kind == "payment"]
    assert len(notices) == 1 and notices[0].channel == "telegram" and notices[0].status == "pending"


def test_part_paid_runner_is_never_told_a_deadline_it_does_not_have(session: Session) -> None:
    reg, payment = _with_photo(session)
    admin = make_staff(session)
    partial = verification.approve(
        session, payment_id=payment.id, actor=admin, amount_received=100_000, now=later(2)
    )
    told = partial.outbound[0].text
    assert "kekurangannya" in told and "sebelum" not in told and "WIB" not in told
    # A wrong top-up photo is rejected: still no deadline, and still no expiry.
    top_up = send_photo(session, reg, hours=3, amount=1_000, ref=7)
    assert top_up.payment is not None
    rejected = rejection.reject(
        session, payment_id=top_up.payment.id, actor=admin, reason="amount_mismatch", now=later(4)
    )
    assert reg.status == RegistrationStatus.PARTIALLY_PAID
    assert "sebelum" not in rejected.outbound[0].text and "WIB" not in rejected.outbound[0].text
    assert deadlines.expire_unpaid(session, now=later(24 * 60)) == []
    # An ordinary rejection still names the deadline.
    other, other_payment = _with_photo(session)
    plain = rejection.reject(
        session, payment_id=other_payment.id, actor=admin, reason="unreadable", now=later(4)
    )
    assert "sebelum" in plain.outbound[0].text and other.status == RegistrationStatus.REJECTED


def test_a_preset_reason_keeps_the_verifiers_note(session: Session) -> None:
    reg, payment = _with_photo(session)
    outcome = rejection.reject(
        session,
        payment_id=payment.id,
        actor=make_staff(session),
        reason="amount_mismatch",
        note="Kurang Rp50.000, mohon transfer sisanya",
        now=later(2),
    )
    text = outcome.outbound[0].text
    assert "tidak sesuai" in text and "Kurang Rp50.000, mohon transfer sisanya" in text
    assert payment.reject_reason == "amount_mismatch"
    assert payment.flags["reject_note"] == "Kurang Rp50.000, mohon transfer sisanya"


def test_notices_follow_the_chats_current_language(session: Session) -> None:
    from core.models import Conversation

    reg, payment = _with_photo(session)
    assert reg.language == "id"
    session.add(Conversation(channel=reg.channel, chat_id=reg.chat_id, language="en"))
    session.flush()
    outcome = rejection.reject(
        session, payment_id=payment.id, actor=make_staff(session), reason="unreadable", now=later(2)
    )
    assert "Reason: The transfer photo is not readable." in outcome.outbound[0].text
    retry = send_photo(session, reg, hours=3, ref=9)
    assert retry.payment is not None and "Thank you" in retry.replies[0].text
    result = verification.approve(
        session, payment_id=retry.payment.id, actor=make_staff(session), now=later(4)
    )
    assert "We received your payment" in result.outbound[0].text
