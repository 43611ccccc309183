"""Apply one inbound message to a conversation: the one path every door takes.

The worker, ``funrun chat`` and the flow tests' chat driver all call ``apply``; the simulator stores
its messages like a webhook and the worker applies them. Before the engine runs, the conversation's
own rules answer without it: flood control (its counters live on the Conversation row), refused
image downloads and message kinds the bot cannot read. The caller has locked the conversation and
owns the transaction; the download itself (I/O) happened before, its outcome is on the attachments.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from core import audit
from core.config import Settings, get_settings
from core.db import update_now
from core.i18n import t
from core.messages import CALLBACK_ANSWER, InboundMessage, Reply
from core.messaging import outbox
from core.models import Conversation, OutboundMessage
from flows import runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Applied:
    """What one message produced: replies to send, and why it was not a normal answer (if so)."""

    replies: list[Reply]
    error: str | None = None  # stored on the inbound row: "flood", "too_large", "engine_error", …
    callback_id: str | None = None  # a tapped Telegram button, to acknowledge (stops its spinner)


class EngineFailed(Exception):
    """The engine raised on a message applied with ``savepoint=False`` (logged already).

    The transaction may hold part of what the engine did: the caller rolls it back and applies
    the message again with ``engine=False``, which answers it like a failure inside a savepoint.
    """


def apply(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    *,
    received_at: datetime,
    now: datetime,
    savepoint: bool = True,
    engine: bool = True,
) -> Applied:
    """Apply ``message`` to the locked ``conversation``; ``received_at`` paces flood control.

    The engine runs in a savepoint, so a failure answers the runner and keeps the transaction;
    ``savepoint=False`` (the conversation worker) saves its two round trips per message and
    raises EngineFailed instead; ``engine=False`` then answers as a failed engine would.
    """
    settings = get_settings()
    verdict, flood = _flood(conversation, received_at, settings)
    replies, error = _refusal(session, conversation, message, verdict, settings)
    if replies is None and not engine:
        replies, error = _engine_error(conversation)
    if replies is None:
        replies, error = _run_engine(
            session, conversation, message, now, flood, savepoint=savepoint
        )
    else:
        flood.write(conversation)
    return Applied(replies, error, message.callback_id)


def _engine_error(conversation: Conversation) -> tuple[list[Reply], str]:
    return [Reply(text=t("error.generic", conversation.language))], "engine_error"


def queue(
    session: Session,
    conversation: Conversation,
    applied: Applied,
    *,
    update_id: int,
    claim_at: datetime | None = None,
) -> list[OutboundMessage]:
    """Write ``applied`` to the outbox: the button acknowledgement first, then the replies.

    Called once per inbound row, in the transaction that marks it processed: its keys are new.
    ``claim_at``: the caller sends the rows itself after the commit (outbox.write).
    """
    written = []
    if applied.callback_id:
        row = outbox.write(
            session,
            channel=conversation.channel,
            recipient=conversation.chat_id,
            reply=Reply(text="", kind=CALLBACK_ANSWER),
            idempotency_key=f"cb:{update_id}",
            conversation_id=conversation.id,
            fresh=True,
            extra={"callback_id": applied.callback_id},
            claim_at=claim_at,
        )
        written.append(row)
    return written + outbox.write_many(
        session,
        channel=conversation.channel,
        recipient=conversation.chat_id,
        replies=applied.replies,
        key_prefix=f"in:{update_id}",
        conversation_id=conversation.id,
        fresh=True,
        claim_at=claim_at,
    )


def _refusal(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    flood: str | None,
    settings: Settings,
) -> tuple[list[Reply] | None, str | None]:
    """Answers given without the engine: flooding, refused images, unsupported kinds."""
    lang = conversation.language
    if flood == "drop":
        return [], "flood"
    if flood == "warn":
        audit.record(
            session,
            actor="system",
            action="conversation.flood_muted",
            subject_type="conversation",
            subject_id=conversation.id,
        )
        return [Reply(text=t("channels.slow_down", lang))], "flood"
    errors = [a.error for a in message.attachments if a.error]
    if "too_large" in errors:
        max_mb = max(1, round(settings.download_max_bytes / (1024 * 1024)))
        return [Reply(text=t("channels.image_too_large", lang, max_mb=max_mb))], "too_large"
    if "not_stored" in errors:  # our media disk or bucket failed: nothing of theirs is lost
        return [Reply(text=t("faults.photo_not_stored", lang))], "not_stored"
    if errors:
        return [Reply(text=t("channels.image_download_failed", lang))], errors[0]
    if message.unsupported:
        key = (
            "channels.not_an_image" if message.unsupported == "document" else "channels.unsupported"
        )
        return [Reply(text=t(key, lang))], f"unsupported:{message.unsupported}"[:200]
    return None, None


@dataclass(frozen=True)
class Flood:
    """The conversation's flood counters after this message (written with its other changes)."""

    window_start: datetime | None
    count: int
    warned: bool

    def write(self, conversation: Conversation) -> None:
        # Assigned once, after the engine: the engine's savepoint would flush them on its own
        # (an UPDATE of the row before the one carrying state and answers).
        conversation.flood_window_start = self.window_start
        conversation.flood_count = self.count
        conversation.flood_warned = self.warned


def _flood(
    conversation: Conversation, received_at: datetime, settings: Settings
) -> tuple[str | None, Flood]:
    """ "warn" on the first message over the limit, "drop" until the chat is quiet for a window."""
    window = timedelta(seconds=settings.flood_window_seconds)
    start, count = conversation.flood_window_start, conversation.flood_count or 0
    if conversation.flood_warned:
        if start is not None and received_at - start < window:
            # Still noisy: the quiet period restarts.
            return "drop", Flood(received_at, count, warned=True)
        start = None
    if start is None or received_at - start >= window:
        start, count = received_at, 0
    count += 1
    if count > settings.flood_max_messages:
        return "warn", Flood(received_at, count, warned=True)
    return None, Flood(start, count, warned=False)


def _run_engine(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    now: datetime,
    flood: Flood,
    *,
    savepoint: bool = True,
) -> tuple[list[Reply], str | None]:
    """Run the engine; a failure is answered (in a savepoint) or raised as EngineFailed (without).

    The engine's changes are written here, by the row's one UPDATE: a statement the database
    refuses is the engine's failure, not the commit's.
    """
    conversation_id = conversation.id  # a failed flush expires the row: read it now
    try:
        with session.begin_nested() if savepoint else nullcontext():
            replies = list(runtime.handle_message(session, conversation, message, now=now))
            flood.write(conversation)
            update_now(session, conversation)  # without the flush's machinery
            session.flush()
            return replies, None
    except OperationalError:
        raise  # lock timeout or database trouble: the caller retries the whole drain
    except Exception as exc:
        log.exception("conversation %s: engine failed on %s", conversation_id, message.external_id)
        if not savepoint:
            raise EngineFailed from exc
        flood.write(conversation)  # the savepoint's rollback undid it; the message still counts
        # One poisoned message must not block the chat forever: answer it and move on.
        return _engine_error(conversation)
