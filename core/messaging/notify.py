"""Notices to a runner about their registration: one catalogue text written to their chat's outbox."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import Conversation, OutboundMessage, Registration


def chat_language(session: Session, registration: Registration) -> str:
    """The language the runner's chat uses now (BAHASA/LANGUAGE), else the one they registered in.

    ``registration.language`` is frozen at registration; a later switch must win for every notice.
    """
    language = session.scalar(
        select(Conversation.language).where(
            Conversation.channel == registration.channel,
            Conversation.chat_id == registration.chat_id,
        )
    )
    return language or registration.language or "id"


def notify(
    session: Session,
    registration: Registration,
    *,
    key: str,
    idempotency_key: str,
    priority: int = outbox.PRIORITY_NOTIFICATION,
    **params: object,
) -> OutboundMessage:
    """Write one catalogue text to the outbox for the runner's chat (sent by workers after commit)."""
    text = t(key, chat_language(session, registration), number=registration.number, **params)
    return outbox.write(
        session,
        channel=registration.channel,
        recipient=registration.chat_id,
        reply=Reply(text=text, kind="payment"),
        idempotency_key=idempotency_key,
        priority=priority,
        conversation_id=registration.conversation_id,
        registration_id=registration.id,
    )
