"""Entry point the worker calls for each inbound message (placeholder until the flow lands)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.messages import InboundMessage, Reply
from core.models import Conversation


def handle_message(
    session: Session, conversation: Conversation, message: InboundMessage, *, now: datetime
) -> list[Reply]:
    """Apply one message to a locked conversation; return the replies to queue."""
    del session  # placeholder does not touch the database
    conversation.last_activity_at = now
    return [Reply(text=f"Halo! Anda menulis: {message.text or '(gambar)'}")]
