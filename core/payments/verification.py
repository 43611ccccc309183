"""Approving payments: fully or partially, from a screenshot or from a bank statement line.

Part of the payments area. Modelled on pretix's
``OrderPayment.confirm()``: lock the rows, return early when the work is already done (a double
click or a race), write the audit row, and leave side effects (sending, tickets) to the caller
after commit. Lock order: registration, then payment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.enums import AWAITING_STATUSES, PaymentStatus, RegistrationStatus
from core.errors import Conflict
from core.fulfilment import consent, paid
from core.messaging.notify import notify
from core.models import AdminUser, OutboundMessage, Payment, Registration
from core.payments.state import (
    extend_deadline,
    lock_open_payment,
    lock_payment,
    outstanding,
)
from core.registration import refunds
from core.registration.stock import lock_registration
from core.staff.accounts import staff_label

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Approval:
    """Outcome of approve(); ``by``/``at`` say who approved first when ``changed`` is False."""

    changed: bool
    registration_id: int
    payment_id: int
    status: str
    by: str | None = None
    at: datetime | None = None
    amount_received: int = 0
    shortfall: int = 0
    refund_due: int = 0
    outbound: list[OutboundMessage] = field(default_factory=list)
    # The other registrations approved together (one bank credit paying a photo group).
    others: list[Approval] = field(default_factory=list)

    @property
    def paid(self) -> bool:
        """True when this approval made the registration paid (the caller issues the ticket)."""
        return self.changed and self.status == RegistrationStatus.PAID.value


def approve(
    session: Session,
    *,
    payment_id: int,
    actor: AdminUser,
    amount_received: int | None = None,
    now: datetime,
    notice: bool = True,
) -> Approval:
    """Approve a payment: paid (BIB, ticket) when the total covers the amount due, else partial.

    Args:
        amount_received: what the bank statement shows; None means "the amount still due".
        notice: False when the caller tells the runner itself (a group's one combined message).

    Raises:
        Conflict: the registration expired or was cancelled, or the payment was rejected.
        RangeExhausted: no BIB left (from fulfilment.mark_paid); nothing is half-done.
    """
    registration, payment = lock_payment(session, payment_id)
    return _approve_locked(session, registration, payment, actor, amount_received, now, notice)


def approve_registration(
    session: Session,
    *,
    registration_id: int,
    actor: AdminUser,
    amount_received: int | None,
    reference: str,
    now: datetime,
    notice: bool = True,
) -> Approval:
    """Approve from a bank statement line: no screenshot needed (an open photo payment is reused)."""
    registration = lock_registration(session, registration_id)
    payment = lock_open_payment(session, registration.id)
    if payment is None and registration.status == RegistrationStatus.PAID.value:
        return _already_paid(session, registration, None)
    if payment is None:
        payment = Payment(registration_id=registration.id, source="statement", submitted_at=now)
        session.add(payment)
    payment.flags = {**(payment.flags or {}), "statement_reference": reference}
    session.flush()
    return _approve_locked(session, registration, payment, actor, amount_received, now, notice)


def _already_paid(
    session: Session, registration: Registration, payment: Payment | None
) -> Approval:
    """The idempotent early return: report who approved first and when."""
    done = payment if payment is not None and payment.status == PaymentStatus.APPROVED else None
    done = (
        done
        or session.scalars(
            select(Payment)
            .where(
                Payment.registration_id == registration.id,
                Payment.status == PaymentStatus.APPROVED.value,
            )
            .order_by(Payment.verified_at.desc())
            .limit(1)
        ).one_or_none()
    )
    log.info("registration %s already approved; likely a double click or race", registration.id)
    shown = done or payment
    return Approval(
        changed=False,
        registration_id=registration.id,
        payment_id=shown.id if shown is not None else 0,
        status=registration.status,
        by=staff_label(session, done.verified_by_id) if done else None,
        at=done.verified_at if done else None,
        amount_received=registration.amount_received or 0,
    )


def _approve_locked(
    session: Session,
    registration: Registration,
    payment: Payment,
    actor: AdminUser,
    amount_received: int | None,
    now: datetime,
    notice: bool = True,
) -> Approval:
    if payment.status == PaymentStatus.APPROVED.value or (
        registration.status == RegistrationStatus.PAID.value
    ):
        return _already_paid(session, registration, payment)
    if registration.status not in AWAITING_STATUSES:
        raise Conflict(key="payment.registration_closed", status=registration.status)
    before = {"status": registration.status, "amount_received": registration.amount_received}
    earlier = registration.amount_received or 0
    received = registration.amount_due - earlier if amount_received is None else amount_received
    total = earlier + received
    payment.status, payment.amount_received = PaymentStatus.APPROVED.value, received
    payment.verified_by_id, payment.verified_at = actor.id, now
    registration.amount_received = total
    result = Approval(
        changed=True,
        registration_id=registration.id,
        payment_id=payment.id,
        status=registration.status,
        by=staff_label(session, actor.id),
        at=now,
        amount_received=total,
    )
    if total < registration.amount_due:
        _record_partial(session, registration, payment, result, now, notice)
    else:
        _record_paid(session, registration, payment, result, actor, now, notice)
    result.status = registration.status
    _audit_approval(session, registration, payment, actor, before)
    return result


def _audit_approval(
    session: Session,
    registration: Registration,
    payment: Payment,
    actor: AdminUser,
    before: dict[str, object],
) -> None:
    audit.record(
        session,
        actor=actor.email,
        action="payment.approved",
        subject_type="payment",
        subject_id=payment.id,
        before=before,
        after={"status": registration.status, "amount_received": registration.amount_received},
        registration_id=registration.id,
        received=payment.amount_received,
        source=payment.source,
    )


def _record_partial(
    session: Session,
    registration: Registration,
    payment: Payment,
    result: Approval,
    now: datetime,
    notice: bool,
) -> None:
    registration.status = RegistrationStatus.PARTIALLY_PAID.value
    result.shortfall = outstanding(registration)
    extend_deadline(registration, now)
    if notice:
        result.outbound.append(
            notify(
                session,
                registration,
                key="payment.partial",
                idempotency_key=f"payment:{payment.id}:partial",
                received=registration.amount_received,
                shortfall=result.shortfall,
                due=registration.amount_due,
            )
        )


def _record_paid(
    session: Session,
    registration: Registration,
    payment: Payment,
    result: Approval,
    actor: AdminUser,
    now: datetime,
    notice: bool = True,
) -> None:
    """Paid: BIB and ticket token; ``notice`` False leaves "payment verified" to the caller."""
    paid.mark_paid(session, registration=registration, actor=actor.email, now=now)
    extra = (registration.amount_received or 0) - registration.amount_due
    if extra > 0:
        # Overpaid: the organiser refunds by hand; the flag puts it on the verifier's list.
        result.refund_due = extra
        payment.flags = {**(payment.flags or {}), "refund_due": extra}
        refunds.owe(session, registration, amount=extra, reason="overpaid", actor=actor.email)
        audit.record(
            session,
            actor=actor.email,
            action="payment.overpaid",
            subject_type="payment",
            subject_id=payment.id,
            registration_id=registration.id,
            refund_due=extra,
        )
    if notice:
        result.outbound.append(
            notify(
                session,
                registration,
                key="payment.confirmed",
                idempotency_key=f"registration:{registration.id}:payment-confirmed",
                amount=registration.amount_received,
            )
        )
    if consent.blocks_ticket(session, registration):  # a minor: the letter comes first
        result.outbound.append(
            notify(
                session,
                registration,
                key="questions.letter.waiting_ticket",
                idempotency_key=f"registration:{registration.id}:letter-first",
            )
        )
