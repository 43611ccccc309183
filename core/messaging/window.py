"""The WhatsApp Cloud API 24-hour customer-service window, templates, and messages that wait.

Free-form messages may go out only within 24 hours of the runner's last message to the number.
Outside it a message kind with an approved template (WHATSAPP_TEMPLATES) goes out as that
template; any other message waits (status ``waiting``) until the runner writes again.

The window is read from the inbox (the newest stored message of the chat), not kept on the
conversation row: a worker holds that row locked while it drains the chat, and the webhook must
never wait for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.enums import Channel, OutboundStatus
from core.models import Conversation, InboundUpdate, OutboundMessage

WINDOW = timedelta(hours=24)
# Sending takes a moment and clocks differ: stop free-form a little before Meta does.
MARGIN = timedelta(minutes=5)
CHANNEL = Channel.WHATSAPP_CLOUD.value

# Message kinds that can fall outside the window, by the outbox key their writer uses.
KINDS = {
    "payment_reminder": re.compile(r"^registration:\d+:payment-reminder$"),
    "payment_confirmed": re.compile(r"^registration:\d+:payment-confirmed$"),
    "payment_rejected": re.compile(r"^payment:\d+:rejected$"),
    "payment_expired": re.compile(r"^registration:\d+:expired$"),
    "ticket": re.compile(r"^ticket:\d+:"),
    "broadcast": re.compile(r"^broadcast:\d+:"),  # core.messaging.broadcasts.outbox_key
}
WAITING_PREFIX = "waiting: "


@dataclass(frozen=True, slots=True)
class Plan:
    """How to send one row now: free-form, as ``template``, or not at all (it waits)."""

    template: dict[str, Any] | None = None
    wait_reason: str | None = None


def kind_of(row: OutboundMessage) -> str | None:
    """The template kind of an outbox row (None for replies and anything without one)."""
    for kind, pattern in KINDS.items():
        if pattern.match(row.idempotency_key or ""):
            return kind
    return None


def last_inbound_at(session: Session, *, chat_id: str) -> datetime | None:
    """When the runner last wrote to the Cloud API number (the start of the current window)."""
    conversation = (
        select(Conversation.id)
        .where(Conversation.channel == CHANNEL, Conversation.chat_id == chat_id)
        .scalar_subquery()
    )
    # By conversation id: ix_inbound_pending leads with it, so this reads one chat's rows only.
    return session.scalar(
        select(func.max(InboundUpdate.received_at)).where(
            InboundUpdate.conversation_id == conversation
        )
    )


def is_open(session: Session, *, chat_id: str, now: datetime) -> bool:
    last = last_inbound_at(session, chat_id=chat_id)
    return last is not None and now - last < WINDOW - MARGIN


def park(session: Session, *, outbound_id: int, reason: str) -> None:
    """Hold a row until the runner writes again (sent then by ``release``)."""
    row = session.scalars(
        select(OutboundMessage).where(OutboundMessage.id == outbound_id).with_for_update()
    ).one()
    if row.status == OutboundStatus.SENT:
        return
    row.status = OutboundStatus.WAITING.value
    row.error = (WAITING_PREFIX + reason)[:1000]
    row.next_attempt_at = None
    row.claimed_at = None


def release(session: Session, *, chat_id: str) -> list[OutboundMessage]:
    """The runner wrote: their waiting rows go back to the queue (the window is open again)."""
    waiting = (
        OutboundMessage.channel == CHANNEL,
        OutboundMessage.recipient == chat_id,
        OutboundMessage.status == OutboundStatus.WAITING.value,
    )
    if session.scalar(select(OutboundMessage.id).where(*waiting).limit(1)) is None:
        return []
    session.execute(
        update(OutboundMessage)
        .where(*waiting)
        .values(status=OutboundStatus.PENDING.value, next_attempt_at=None, error=None)
        .execution_options(synchronize_session=False)
    )
    return list(
        session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.channel == CHANNEL,
                OutboundMessage.recipient == chat_id,
                OutboundMessage.status == OutboundStatus.PENDING.value,
            )
        )
    )


def waiting_by_reason(session: Session) -> list[tuple[str, int]]:
    """How many messages wait for their runner's next message, per reason (operations page)."""
    rows = session.execute(
        select(OutboundMessage.error, func.count())
        .where(OutboundMessage.status == OutboundStatus.WAITING.value)
        .group_by(OutboundMessage.error)
        .order_by(func.count().desc())
    )
    return [((error or "").removeprefix(WAITING_PREFIX), n) for error, n in rows]
