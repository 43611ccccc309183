"""Refunds owed to runners, from being noted to being marked refunded by the organiser.

A refund is owed when a paid runner cancels (what they paid, less refunds already owed), moves to a
cheaper category (the difference) or pays more than due (the extra). The organiser sends the money
outside funrun (a bank transfer), then marks it refunded with the amount sent, an optional transfer
reference and note: audited, the runner told in their language. ``Registration.refund_owed`` keeps
what is still owed, for the registration page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from core import audit
from core.errors import Conflict, NotFound
from core.messaging.notify import notify
from core.models import OutboundMessage, Refund, Registration

OWED, REFUNDED, WAIVED = "owed", "refunded", "waived"  # waived: nothing due under the rule
REASONS = ("cancellation", "downgrade", "overpaid")


def owe(
    session: Session, registration: Registration, *, amount: int, reason: str, actor: str
) -> Refund | None:
    """Note a refund owed (the registration row is locked by the caller); None for nothing."""
    if amount <= 0:
        return None
    refund = Refund(
        event_id=registration.event_id,
        registration_id=registration.id,
        amount=amount,
        reason=reason,
        status=OWED,
    )
    session.add(refund)
    registration.refund_owed = (registration.refund_owed or 0) + amount
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="refund.owed",
        subject_type="registration",
        subject_id=registration.id,
        refund_id=refund.id,
        amount=amount,
        reason=reason,
    )
    return refund


def owe_on_cancel(session: Session, registration: Registration, *, actor: str) -> Refund | None:
    """A paid (or part-paid) registration cancelled: what was received, less refunds noted already."""
    noted = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.registration_id == registration.id
        )
    )
    received = registration.amount_received or 0
    return owe(
        session, registration, amount=received - int(noted or 0), reason="cancellation", actor=actor
    )


def listing(session: Session, *, event_id: int, status: str | None = None) -> list[Refund]:
    """The event's refunds, still owed first, oldest first (registration and runner loaded)."""
    query = (
        select(Refund)
        .where(Refund.event_id == event_id)
        .options(joinedload(Refund.registration).joinedload(Registration.participant))
    )
    if status:
        query = query.where(Refund.status == status)
    order = (Refund.status != OWED, Refund.created_at, Refund.id)
    return list(session.scalars(query.order_by(*order)).unique())


@dataclass(slots=True)
class Marked:
    refund: Refund
    changed: bool
    outbound: list[OutboundMessage]


def mark_refunded(
    session: Session,
    *,
    refund_id: int,
    actor: str,
    now: datetime,
    amount: int | None = None,
    reference: str = "",
    note: str = "",
) -> Marked:
    """The organiser sent the money: record it (audited) and tell the runner. A second call is a no-op.

    ``amount``: what was sent (default: the amount owed; the event's rule may give back less).
    Raises Conflict when the amount is not between 1 and the amount owed.
    """
    registration, refund = _lock(session, refund_id)
    if refund.status != OWED:
        return Marked(refund, False, [])
    sent = refund.amount if amount is None else amount
    if not 0 < sent <= refund.amount:
        limit = f"the amount refunded must be between Rp1 and Rp{refund.amount:,}"
        raise Conflict(limit, key="refunds.amount_range", owed=refund.amount)
    refund.reference = reference.strip()[:100]
    _close(session, registration, refund, REFUNDED, sent, actor=actor, now=now, note=note)
    told = notify(
        session,
        registration,
        key="refunds.sent",
        idempotency_key=f"refund:{refund.id}:sent",
        amount=sent,
        reference=refund.reference,
    )
    return Marked(refund, True, [told])


def waive(session: Session, *, refund_id: int, actor: str, now: datetime, note: str = "") -> Marked:
    """Nothing is given back (the event's refund rule): closed, audited; the runner is not told
    here (the rule was shown before they cancelled). A second call is a no-op."""
    registration, refund = _lock(session, refund_id)
    if refund.status != OWED:
        return Marked(refund, False, [])
    _close(session, registration, refund, WAIVED, 0, actor=actor, now=now, note=note)
    return Marked(refund, True, [])


def _close(
    session: Session, registration: Registration, refund: Refund, status: str, sent: int, *,
    actor: str, now: datetime, note: str,
) -> None:  # fmt: skip
    """Close a refund as refunded (``sent`` given back) or waived, and audit it."""
    refund.status, refund.refunded_amount = status, sent
    refund.refunded_at, refund.refunded_by = now, actor[:200]
    refund.note = note.strip()[:2000]
    registration.refund_owed = max((registration.refund_owed or 0) - refund.amount, 0)
    session.flush()
    extra = {"refunded": sent, "reference": refund.reference} if status == REFUNDED else {}
    audit.record(
        session,
        actor=actor,
        action="refund.marked" if status == REFUNDED else "refund.waived",
        subject_type="registration",
        subject_id=registration.id,
        refund_id=refund.id,
        owed=refund.amount,
        **extra,
    )


def _lock(session: Session, refund_id: int) -> tuple[Registration, Refund]:
    """Lock order: the registration, then its refund."""
    found = session.get(Refund, refund_id)
    if found is None:
        raise NotFound(f"refund {refund_id}")
    registration = session.scalars(
        select(Registration).where(Registration.id == found.registration_id).with_for_update()
    ).one()
    refund = session.scalars(
        select(Refund)
        .where(Refund.id == refund_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return registration, refund
