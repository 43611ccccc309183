"""STOP and START: a runner leaves or rejoins broadcasts (never their own transactional messages).

START is also the English word for registering (and Telegram's /start): it means "rejoin" only
when typed alone by a chat that said STOP; otherwise it starts a registration as before. The
words SUBSCRIBE / LANGGANAN always rejoin.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.i18n import t
from core.messages import InboundMessage, Reply
from core.messaging import broadcasts
from core.models import Conversation
from flows.commands import Command


def _typed_start(message: InboundMessage, command: Command) -> bool:
    word = (message.command or message.text or "").strip().lstrip("/").lower()
    return command.name == "start" and command.arg is None and word.rstrip("!.") == "start"


def handles(
    session: Session, conversation: Conversation, message: InboundMessage, command: Command
) -> bool:
    """Whether ``command`` is STOP, SUBSCRIBE, or a bare START from a chat that said STOP."""
    if command.name in ("stop", "subscribe"):
        return True
    return _typed_start(message, command) and broadcasts.is_opted_out(
        session, channel=conversation.channel, chat_id=conversation.chat_id
    )


def reply(session: Session, conversation: Conversation, command: Command) -> list[Reply]:
    where = {"channel": conversation.channel, "chat_id": conversation.chat_id}
    if command.name == "stop":
        phone = (
            conversation.chat_id if conversation.channel in broadcasts.WHATSAPP_CHANNELS else None
        )
        changed = broadcasts.opt_out(session, **where, phone=phone or conversation.phone)
        key = "broadcast.stopped" if changed else "broadcast.already_stopped"
    else:
        changed = broadcasts.opt_in(session, **where)
        key = "broadcast.started" if changed else "broadcast.already_started"
    return [Reply(t(key, conversation.language))]
