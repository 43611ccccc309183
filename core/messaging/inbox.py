"""The transactional inbox: every webhook delivery is stored (deduplicated) before it is acknowledged.

Workers drain a conversation's unprocessed rows in id order; the sweeper finds rows left behind.
Deliveries are deduplicated by (channel, external_id): Telegram's update_id, Fonnte's inbox id (or
a hash), the WhatsApp Cloud API's message id (``wamid…``, one row per message of a batch).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import advisory_xact_lock, insert_ignore, lock_key, utcnow
from core.messages import Attachment, InboundMessage
from core.models import Conversation, InboundUpdate


def chat_lock_key(channel: str, chat_id: str) -> int:
    """A stable signed 64-bit advisory-lock key for one chat."""
    return lock_key("chat", channel, chat_id)


def record_inbound(session: Session, message: InboundMessage) -> InboundUpdate | None:
    """Store one delivery and link it to its conversation (created if missing).

    Returns:
        The new InboundUpdate, or None when (channel, external_id) was stored before (a re-delivery).
    """
    channel = message.channel.value
    # Serialise inserts for one chat so that id order equals commit order: the worker drains rows by
    # id and must never see a later message committed before an earlier one.
    advisory_xact_lock(session, chat_lock_key(channel, message.chat_id))
    conversation_id = ensure_conversation(session, message)
    inserted = insert_ignore(
        session,
        InboundUpdate.__table__,
        [
            {
                "channel": channel,
                "external_id": message.external_id,
                "chat_id": message.chat_id,
                "conversation_id": conversation_id,
                "payload": dict(message.raw),
                "message": message.to_json(),
                "received_at": utcnow(),
            }
        ],
        keys=["channel", "external_id"],
    )
    if not inserted:
        return None
    return session.scalars(
        select(InboundUpdate).where(
            InboundUpdate.channel == channel, InboundUpdate.external_id == message.external_id
        )
    ).one()


def ensure_conversation(session: Session, message: InboundMessage) -> int:
    """Return the id of the (channel, chat_id) conversation, inserting it when missing."""
    channel = message.channel.value
    insert_ignore(
        session,
        Conversation.__table__,
        [
            {
                "channel": channel,
                "chat_id": message.chat_id,
                "language": get_settings().default_language,
                "sender_name": (message.sender_name or "")[:200] or None,
                "phone": message.phone,
                "created_at": utcnow(),
            }
        ],
        keys=["channel", "chat_id"],
    )
    return session.scalars(
        select(Conversation.id).where(
            Conversation.channel == channel, Conversation.chat_id == message.chat_id
        )
    ).one()


def pending(session: Session, *, conversation_id: int) -> list[InboundUpdate]:
    """Unprocessed rows of one conversation, oldest first."""
    return list(
        session.scalars(
            select(InboundUpdate)
            .where(
                InboundUpdate.conversation_id == conversation_id,
                InboundUpdate.processed_at.is_(None),
            )
            .order_by(InboundUpdate.id)
        )
    )


def message_of(update: InboundUpdate) -> InboundMessage:
    """Rebuild the normalised message stored on a row."""
    return InboundMessage.from_json(update.message)


def needs_download(update: InboundUpdate) -> bool:
    """True while an attachment of the row is neither stored nor refused."""
    return any(a.stored_path is None and a.error is None for a in message_of(update).attachments)


def set_attachments(
    session: Session, *, update_id: int, attachments: tuple[Attachment, ...]
) -> bool:
    """Store download results on a row (first writer wins); return whether the row changed."""
    update = session.scalars(
        select(InboundUpdate).where(InboundUpdate.id == update_id).with_for_update()
    ).one_or_none()
    if update is None or update.processed_at is not None or not needs_download(update):
        return False
    update.message = replace(message_of(update), attachments=attachments).to_json()
    return True


def mark_processed(
    session: Session, update: InboundUpdate, *, now: datetime, error: str | None = None
) -> None:
    """Mark one row done (``error`` names why it was answered without the engine, if so)."""
    session.add(update)
    update.processed_at = now
    update.attempts += 1
    update.error = error


def find_stale(session: Session, *, older_than: datetime, limit: int = 500) -> list[int]:
    """Conversation ids with rows still unprocessed since before ``older_than``."""
    rows = session.scalars(
        select(InboundUpdate.conversation_id)
        .where(
            InboundUpdate.processed_at.is_(None),
            InboundUpdate.received_at < older_than,
            InboundUpdate.conversation_id.is_not(None),
        )
        .distinct()
        .limit(limit)
    )
    return [cid for cid in rows if cid is not None]
