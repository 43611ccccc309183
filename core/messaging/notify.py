"""Notices to a runner about their registration: one catalogue text written to their chat's outbox."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import OutboundMessage, Registration


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
    text = t(key, registration.language, number=registration.number, **params)
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
