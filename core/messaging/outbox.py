"""The transactional outbox: messages to runners are rows written in the caller's transaction.

A dispatcher (workers.delivery) sends them after commit, in id order per recipient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import audit
from core.db import advisory_xact_lock, lock_key
from core.enums import OutboundStatus, caption_fits
from core.messages import Reply
from core.models import Conversation, OutboundMessage

# Priorities: lower is sent sooner.
PRIORITY_REPLY = 0
PRIORITY_NOTIFICATION = 3
PRIORITY_REMINDER = 6
PRIORITY_BROADCAST = 9


def write(
    session: Session,
    *,
    channel: str,
    recipient: str,
    reply: Reply,
    idempotency_key: str,
    priority: int = PRIORITY_REPLY,
    conversation_id: int | None = None,
    registration_id: int | None = None,
) -> OutboundMessage:
    """Write one outbound message; an existing row with the same key is returned unchanged.

    A photo whose text is too long for the channel's caption limit becomes two rows (the photo, then the
    text with the choices): each row is one provider call, so a retry never re-sends the photo.
    """
    existing = session.scalar(
        select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    if reply.image_path and not caption_fits(channel, reply.text):
        common = {"channel": channel, "recipient": recipient, "priority": priority}
        ids = {"conversation_id": conversation_id, "registration_id": registration_id}
        photo = replace(reply, text="", choices=(), inline=False)
        write(session, reply=photo, idempotency_key=f"{idempotency_key}:photo", **common, **ids)
        reply = replace(reply, image_path=None)
    extra: dict[str, Any] = {"choices": [asdict(c) for c in reply.choices], "inline": reply.inline}
    language = _language(session, conversation_id)
    if language:
        extra["lang"] = language
    row = OutboundMessage(
        channel=channel,
        recipient=recipient,
        kind=reply.kind,
        priority=priority,
        text=reply.text,
        media_path=reply.image_path,
        extra=extra,
        idempotency_key=idempotency_key,
        conversation_id=conversation_id,
        registration_id=registration_id,
    )
    session.add(row)
    session.flush()
    return row


def write_many(
    session: Session,
    *,
    channel: str,
    recipient: str,
    replies: Iterable[Reply],
    key_prefix: str,
    priority: int = PRIORITY_REPLY,
    conversation_id: int | None = None,
    registration_id: int | None = None,
) -> list[OutboundMessage]:
    """Write several replies in order with keys ``{key_prefix}:{n}``."""
    return [
        write(
            session,
            channel=channel,
            recipient=recipient,
            reply=reply,
            idempotency_key=f"{key_prefix}:{n}",
            priority=priority,
            conversation_id=conversation_id,
            registration_id=registration_id,
        )
        for n, reply in enumerate(replies)
    ]


# A row claimed longer ago than this is "unknown whether accepted": it may be sent again.
CLAIM_LEASE = timedelta(seconds=90)
OPEN_STATUSES = (OutboundStatus.PENDING.value, OutboundStatus.SENDING.value)


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of claim_next: a row to send now, or why there is none."""

    row: OutboundMessage | None = None
    busy: bool = False  # another worker is sending this recipient's head message
    wait_until: datetime | None = None  # the head message is scheduled for a retry


def _language(session: Session, conversation_id: int | None) -> str | None:
    if conversation_id is None:
        return None
    return session.scalar(select(Conversation.language).where(Conversation.id == conversation_id))


def recipient_lock_key(channel: str, recipient: str) -> int:
    """A stable signed 64-bit advisory-lock key for one recipient's outbox queue."""
    return lock_key("out", channel, recipient)


def _head(session: Session, channel: str, recipient: str, *, lock: bool) -> OutboundMessage | None:
    stmt = (
        select(OutboundMessage)
        .where(
            OutboundMessage.channel == channel,
            OutboundMessage.recipient == recipient,
            OutboundMessage.status.in_(OPEN_STATUSES),
        )
        .order_by(OutboundMessage.id)
        .limit(1)
    )
    return session.scalars(stmt.with_for_update() if lock else stmt).one_or_none()


def _classify(head: OutboundMessage | None, now: datetime) -> Claim | None:
    """Return why ``head`` cannot be sent now, or None when it can."""
    if head is None:
        return Claim()
    if (
        head.status == OutboundStatus.SENDING
        and head.claimed_at
        and head.claimed_at > now - CLAIM_LEASE
    ):
        return Claim(busy=True)
    if head.next_attempt_at is not None and head.next_attempt_at > now:
        return Claim(wait_until=head.next_attempt_at)
    return None


def peek(session: Session, *, channel: str, recipient: str, now: datetime) -> Claim:
    """Look (without locking) at what claim_next would do; ``row`` is the head when sendable."""
    head = _head(session, channel, recipient, lock=False)
    return _classify(head, now) or Claim(row=head)


def claim_next(session: Session, *, channel: str, recipient: str, now: datetime) -> Claim:
    """Claim the recipient's oldest unsent message, strictly in id order.

    Only one message per recipient is in flight at a time, so a chat receives messages in the
    order they were written. A claim older than CLAIM_LEASE is taken over (the sender died).
    """
    # Serialises claimers of one recipient for the few milliseconds of this transaction only.
    advisory_xact_lock(session, recipient_lock_key(channel, recipient))
    head = _head(session, channel, recipient, lock=True)
    blocked = _classify(head, now)
    if blocked is not None or head is None:
        return blocked or Claim()
    head.status = OutboundStatus.SENDING.value
    head.claimed_at = now
    head.attempts += 1
    return Claim(row=head)


def _locked(session: Session, outbound_id: int) -> OutboundMessage:
    return session.scalars(
        select(OutboundMessage).where(OutboundMessage.id == outbound_id).with_for_update()
    ).one()


def mark_sent(
    session: Session, *, outbound_id: int, provider_message_id: str | None, now: datetime
) -> OutboundMessage:
    """Record the provider's acceptance (a row already sent is left as it is)."""
    row = _locked(session, outbound_id)
    if row.status != OutboundStatus.SENT:
        row.status = OutboundStatus.SENT.value
        row.provider_message_id = provider_message_id
        row.sent_at = now
        row.error = None
        row.next_attempt_at = None
    return row


def mark_failed(
    session: Session, *, outbound_id: int, error: str, now: datetime
) -> OutboundMessage:
    """Give up on a message for good (blocked by the user, invalid number, too many attempts)."""
    row = _locked(session, outbound_id)
    if row.status == OutboundStatus.SENT:
        return row
    row.status = OutboundStatus.FAILED.value
    row.error = error[:1000]
    row.next_attempt_at = None
    audit.record(
        session,
        actor="system",
        action="outbound.failed",
        subject_type="outbound_message",
        subject_id=row.id,
        channel=row.channel,
        kind=row.kind,
        error=row.error,
        at=now.isoformat(),
    )
    return row


def retry_later(session: Session, *, outbound_id: int, at: datetime, error: str) -> OutboundMessage:
    """Put a message back in the queue, not before ``at``."""
    row = _locked(session, outbound_id)
    if row.status == OutboundStatus.SENT:
        return row
    row.status = OutboundStatus.PENDING.value
    row.next_attempt_at = at
    row.error = error[:1000]
    return row


def find_stale(
    session: Session, *, now: datetime, older_than: timedelta = timedelta(seconds=60)
) -> list[tuple[str, str, int]]:
    """(channel, recipient, best priority) of queues with a message overdue by ``older_than``."""
    cutoff = now - older_than
    due_pending = (
        (OutboundMessage.status == OutboundStatus.PENDING)
        & (OutboundMessage.created_at < cutoff)
        & or_(OutboundMessage.next_attempt_at.is_(None), OutboundMessage.next_attempt_at < cutoff)
    )
    abandoned = (OutboundMessage.status == OutboundStatus.SENDING) & (
        OutboundMessage.claimed_at < now - CLAIM_LEASE
    )
    rows = session.execute(
        select(OutboundMessage.channel, OutboundMessage.recipient, OutboundMessage.priority)
        .where(or_(due_pending, abandoned))
        .order_by(OutboundMessage.id)
        .limit(2000)
    )
    best: dict[tuple[str, str], int] = {}
    for channel, recipient, priority in rows:
        key = (channel, recipient)
        best[key] = min(priority, best.get(key, priority))
    return [(c, r, p) for (c, r), p in best.items()]
