"""Payment state: which statuses still owe, what is owed, the lock order, deadlines.

Lock order everywhere: registration, then payment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import PaymentStatus
from core.errors import NotFound
from core.formatting import format_datetime
from core.models import Payment, Registration
from core.registration.stock import lock_registration


def outstanding(registration: Registration) -> int:
    """What the registration still owes (a part-paid one: the rest)."""
    return registration.amount_due - (registration.amount_received or 0)


def deadline_text(
    registration: Registration, deadline: datetime | None = None, language: str | None = None
) -> str:
    """Format the runner-facing deadline in the event's zone: ``Sabtu, 29 Nov 2026 14:00 WIB``."""
    value = deadline or registration.payment_deadline
    if value is None:
        return "-"
    return format_datetime(value, language or registration.language, registration.event.timezone)


def lock_open_payment(session: Session, registration_id: int) -> Payment | None:
    """Lock and return the newest payment still waiting for a verifier, if any."""
    return session.scalars(
        select(Payment)
        .where(
            Payment.registration_id == registration_id,
            Payment.status == PaymentStatus.SUBMITTED.value,
        )
        .order_by(Payment.id.desc())
        .limit(1)
        .with_for_update()
    ).one_or_none()


def lock_payment(session: Session, payment_id: int) -> tuple[Registration, Payment]:
    """Lock a payment's registration, then the payment itself (the global lock order)."""
    registration_id = session.scalar(
        select(Payment.registration_id).where(Payment.id == payment_id)
    )
    if registration_id is None:
        raise NotFound(f"payment {payment_id}")
    registration = lock_registration(session, registration_id)
    payment = session.scalars(
        select(Payment)
        .where(Payment.id == payment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return registration, payment


def extend_deadline(registration: Registration, now: datetime) -> None:
    """Give the runner at least the event's reject grace period from now to send a new proof."""
    event = registration.event
    extended = now + timedelta(hours=event.reject_grace_hours)
    if registration.payment_deadline is None or registration.payment_deadline < extended:
        registration.payment_deadline = extended
    registration.expires_at = registration.payment_deadline + timedelta(
        hours=event.payment_grace_hours
    )
