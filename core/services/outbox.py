"""The transactional outbox: messages to runners are rows written in the caller's transaction.

A dispatcher (workers.delivery) sends them after commit, in id order per recipient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.messages import Reply
from core.models import OutboundMessage

# Priorities: lower is sent sooner.
PRIORITY_REPLY = 0
PRIORITY_NOTIFICATION = 3
PRIORITY_REMINDER = 6
PRIORITY_BROADCAST = 9


def queue(
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
    """Write one outbound message; an existing row with the same key is returned unchanged."""
    existing = session.scalar(
        select(OutboundMessage).where(OutboundMessage.idempotency_key == idempotency_key)
    )
    if existing is not None:
        return existing
    row = OutboundMessage(
        channel=channel,
        recipient=recipient,
        kind=reply.kind,
        priority=priority,
        text=reply.text,
        media_path=reply.image_path,
        extra={"choices": [asdict(c) for c in reply.choices], "inline": reply.inline},
        idempotency_key=idempotency_key,
        conversation_id=conversation_id,
        registration_id=registration_id,
    )
    session.add(row)
    session.flush()
    return row


def queue_many(
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
    """Queue several replies in order with keys ``{key_prefix}:{n}``."""
    return [
        queue(
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
