"""Rejecting a payment: the runner is told why, gets more time, and may send a new photo.

Part of the payments area. Lock order: registration, then payment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from core import audit
from core.enums import PaymentStatus, RegistrationStatus
from core.errors import Conflict
from core.i18n import t
from core.messaging.notify import chat_language, notify
from core.models import AdminUser, OutboundMessage, Payment, Registration
from core.payments.state import (
    deadline_text,
    extend_deadline,
    lock_payment,
    outstanding,
)
from core.staff.accounts import staff_label

log = logging.getLogger(__name__)

# Preset reasons offered to the verifier (staff labels); the runner gets payment.reason.<key>.
PRESET_REJECT_REASONS: dict[str, dict[str, str]] = {
    "amount_mismatch": {"id": "Nominal tidak sesuai", "en": "Amount does not match"},
    "unreadable": {"id": "Foto tidak terbaca", "en": "Unreadable"},
    "wrong_account": {"id": "Rekening tujuan salah", "en": "Wrong account"},
    "duplicate": {"id": "Bukti sudah dipakai", "en": "Duplicate"},
    "other": {"id": "Lainnya", "en": "Other"},
}


@dataclass(slots=True)
class Rejection:
    """Outcome of reject(); ``deadline`` is the (extended) payment deadline told to the runner."""

    changed: bool
    registration_id: int
    payment_id: int
    reason: str
    deadline: datetime | None = None
    outbound: list[OutboundMessage] = field(default_factory=list)


def reject_reason_text(reason: str, language: str, note: str = "") -> str:
    """Turn a preset key into the runner's text (free text passes through), plus the staff note."""
    text = t(f"payment.reason.{reason}", language) if reason in PRESET_REJECT_REASONS else reason
    note = note.strip()
    if not note or note == text:
        return text
    return f"{text}\n{note}" if text else note


def reject(
    session: Session,
    *,
    payment_id: int,
    actor: AdminUser,
    reason: str,
    now: datetime,
    note: str = "",
    notice: bool = True,
) -> Rejection:
    """Reject a payment with a preset key or free text; the runner may send a new photo.

    ``note`` is the verifier's own words next to a chosen preset: the runner gets both.
    ``notice=False`` writes no message: a group's leader gets one for the whole group instead
    (core.payments.group_notice.rejected_notice).

    Raises:
        Conflict: the payment was already approved.
    """
    registration, payment = lock_payment(session, payment_id)
    if payment.status == PaymentStatus.REJECTED.value:
        log.info("payment %s already rejected; likely a double click", payment.id)
        return Rejection(False, registration.id, payment.id, payment.reject_reason or "")
    if payment.status == PaymentStatus.APPROVED.value:
        raise Conflict(
            key="payment.already_approved", by=staff_label(session, payment.verified_by_id)
        )
    note = note.strip()[:500]
    _mark_rejected(session, registration, payment, actor, reason, now)
    if note and note != reason:
        payment.flags = {**(payment.flags or {}), "reject_note": note}
    if not notice:
        return Rejection(True, registration.id, payment.id, reason, registration.payment_deadline)
    language = chat_language(session, registration)
    row = notify(
        session,
        registration,
        key="payment.rejected",
        idempotency_key=f"payment:{payment.id}:rejected",
        reason=reject_reason_text(reason, language, note),
        # A part-paid registration never expires: no deadline is claimed for the rest.
        deadline=""
        if registration.status == RegistrationStatus.PARTIALLY_PAID.value
        else deadline_text(registration, language=language),
        amount=outstanding(registration),
    )
    return Rejection(
        True, registration.id, payment.id, reason, registration.payment_deadline, [row]
    )


def _mark_rejected(
    session: Session,
    registration: Registration,
    payment: Payment,
    actor: AdminUser,
    reason: str,
    now: datetime,
) -> None:
    before = {"status": registration.status, "deadline": registration.payment_deadline}
    payment.status = PaymentStatus.REJECTED.value
    payment.reject_reason = reason
    payment.verified_by_id = actor.id
    payment.verified_at = now
    if registration.status == RegistrationStatus.AWAITING_VERIFICATION.value:
        # A runner who already paid part keeps that standing; otherwise the payment is refused.
        partly = (registration.amount_received or 0) > 0
        registration.status = (
            RegistrationStatus.PARTIALLY_PAID if partly else RegistrationStatus.REJECTED
        ).value
    extend_deadline(registration, now)
    audit.record(
        session,
        actor=actor.email,
        action="payment.rejected",
        subject_type="payment",
        subject_id=payment.id,
        before=before,
        after={"status": registration.status, "deadline": registration.payment_deadline},
        registration_id=registration.id,
        reason=reason,
    )
