"""Payment deadlines: expire unpaid registrations (releasing their stock) and send one reminder.

Part of the payments area. Both jobs are safe to run on several
workers at once: candidate rows are taken with ``FOR UPDATE SKIP LOCKED`` and re-checked under the
lock, so each registration is expired (and its slot released) exactly once. They work from the
stored times, so a run after downtime catches up on everything that fell due meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.db import skip_locked
from core.enums import EXPIRING_STATUSES, RegistrationStatus, values
from core.messaging import outbox
from core.messaging.notify import chat_language, notify
from core.models import Event, OutboundMessage, Registration
from core.payments.state import deadline_text, outstanding
from core.registration import stock

log = logging.getLogger(__name__)

BATCH = 200


@dataclass(frozen=True, slots=True)
class Expired:
    """One registration expired by this run, with the message queued to its runner."""

    registration_id: int
    outbound: OutboundMessage


def expire_unpaid(session: Session, *, now: datetime, limit: int = BATCH) -> list[Expired]:
    """Expire up to ``limit`` registrations past ``expires_at``; release slot and jersey stock."""
    due = session.scalars(
        select(Registration)
        .where(
            Registration.status.in_(values(EXPIRING_STATUSES)),
            Registration.expires_at.is_not(None),
            Registration.expires_at <= now,
        )
        .order_by(Registration.expires_at, Registration.id)
        .limit(limit)
        # Rows another worker is expiring are skipped, not waited for; PostgreSQL re-checks the
        # WHERE clause on the locked row, so a row changed meanwhile (photo, approval) drops out.
        .with_for_update(**skip_locked(session))
        .execution_options(populate_existing=True)
    ).all()
    return [_expire(session, registration, now) for registration in due]


def _expire(session: Session, registration: Registration, now: datetime) -> Expired:
    before = registration.status
    registration.status = RegistrationStatus.EXPIRED.value
    registration.amount_key = None  # the amount may now be given to someone else
    stock.release(session, registration)
    row = notify(
        session,
        registration,
        key="payment.expired",
        idempotency_key=f"registration:{registration.id}:expired",
    )
    audit.record(
        session,
        actor="system",
        action="registration.expired",
        subject_type="registration",
        subject_id=registration.id,
        before={"status": before},
        after={"status": registration.status},
        expires_at=registration.expires_at,
        at=now,
    )
    log.info("registration %s expired", registration.id)
    return Expired(registration.id, row)


def send_reminders(session: Session, *, now: datetime, limit: int = BATCH) -> list[OutboundMessage]:
    """Queue the one payment reminder of each registration whose reminder time has come."""
    # Look ahead as far as the longest reminder any event asks for, so no setting is too large
    # to fire (the per-event time is checked below, in Python: portable interval arithmetic).
    longest = session.scalar(select(func.max(Event.reminder_hours_before))) or 0
    if longest <= 0:
        return []
    candidates = session.execute(
        select(Registration.id, Registration.payment_deadline, Event.reminder_hours_before)
        .join(Event, Event.id == Registration.event_id)
        .where(
            Registration.status == RegistrationStatus.PENDING_PAYMENT.value,
            Registration.reminder_sent_at.is_(None),
            Registration.payment_deadline > now,
            Registration.payment_deadline <= now + timedelta(hours=longest),
            Event.reminder_hours_before > 0,
        )
        .order_by(Registration.payment_deadline)
    ).all()
    due = [rid for rid, deadline, hours in candidates if deadline - timedelta(hours=hours) <= now]
    if not due:
        return []
    locked = session.scalars(
        select(Registration)
        .where(
            Registration.id.in_(due[:limit]),
            Registration.status == RegistrationStatus.PENDING_PAYMENT.value,
            Registration.reminder_sent_at.is_(None),
        )
        .order_by(Registration.id)
        .with_for_update(**skip_locked(session))
        .execution_options(populate_existing=True)
    ).all()
    return [_remind(session, registration, now) for registration in locked]


def _remind(session: Session, registration: Registration, now: datetime) -> OutboundMessage:
    registration.reminder_sent_at = now
    row = notify(
        session,
        registration,
        key="payment.reminder",
        idempotency_key=f"registration:{registration.id}:payment-reminder",
        priority=outbox.PRIORITY_REMINDER,
        amount=outstanding(registration),
        deadline=deadline_text(registration, language=chat_language(session, registration)),
    )
    audit.record(
        session,
        actor="system",
        action="payment.reminder_sent",
        subject_type="registration",
        subject_id=registration.id,
        at=now,
    )
    return row
