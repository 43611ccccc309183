"""process_conversation (queue `default`): apply a chat's stored messages to it, one at a time, in order.

Images are downloaded first, with no transaction open. Then the conversation row is locked and its
unprocessed inbound rows are drained in id order; each one's replies go to the outbox in the same
transaction that marks it processed, and delivery is enqueued after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial

import dramatiq
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from channels.outbound import CALLBACK_ANSWER, DownloadError, TooLarge, fetch_attachment
from core import audit
from core.config import Settings, get_settings
from core.db import UnitOfWork, unit_of_work, utcnow
from core.enums import Channel
from core.i18n import t
from core.messages import Attachment, InboundMessage, Reply
from core.messaging import inbox, outbox, texts
from core.models import Conversation, InboundUpdate, OutboundMessage
from core.payments import photos
from flows import runtime
from workers.broker import broker
from workers.delivery import deliver_after_commit, http_client

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="default", broker=broker, max_retries=20)
def process_conversation(conversation_id: int) -> None:
    """Download pending images, then drain the conversation's inbox under its row lock."""
    _download_attachments(conversation_id)
    with unit_of_work() as uow:
        _drain_locked(uow, conversation_id)


def enqueue(conversation_id: int) -> None:
    """Send process_conversation now; use as ``uow.on_commit(partial(enqueue, id))``.

    A broker failure (Redis down) is logged, not raised: the row is committed and the sweeper
    re-enqueues it.
    """
    try:
        process_conversation.send(conversation_id)
    except Exception:  # noqa: BLE001
        log.warning("could not enqueue conversation %s; sweeper will retry", conversation_id)


def enqueue_after_commit(uow: UnitOfWork, conversation_id: int) -> None:
    """Schedule processing of ``conversation_id`` once ``uow`` commits."""
    uow.on_commit(partial(enqueue, conversation_id))


def _download_attachments(conversation_id: int) -> None:
    with unit_of_work() as uow:
        todo = [
            (u.id, Channel(u.channel), inbox.message_of(u))
            for u in inbox.pending(uow.session, conversation_id=conversation_id)
            if inbox.needs_download(u)
        ]
    for update_id, channel, message in todo:
        _download_and_record(update_id, channel, message)


def prefetch_attachments(update_id: int) -> None:
    """Download a just-stored message's images right after the webhook's ack.

    Provider links expire; with Redis down the worker may not see the message for minutes (the
    sweeper's turn). Whichever of this and the worker records its download first wins.
    """
    with unit_of_work() as uow:
        update = uow.session.get(InboundUpdate, update_id)
        if update is None or not inbox.needs_download(update):
            return
        channel, message = Channel(update.channel), inbox.message_of(update)
    _download_and_record(update_id, channel, message)


def _download_and_record(update_id: int, channel: Channel, message: InboundMessage) -> None:
    settings = get_settings()
    results = tuple(_fetch(settings, channel, a) for a in message.attachments)
    with unit_of_work() as uow:
        recorded = inbox.set_attachments(uow.session, update_id=update_id, attachments=results)
    if not recorded:  # the other downloader was first: drop this copy
        for attachment in results:
            if attachment.stored_path and attachment not in message.attachments:
                photos.discard_inbound_file(attachment.stored_path)


def _fetch(settings: Settings, channel: Channel, attachment: Attachment) -> Attachment:
    if attachment.stored_path or attachment.error:
        return attachment
    try:
        stored = fetch_attachment(http_client(), settings, channel, attachment)
    except TooLarge:
        return replace(attachment, error="too_large")
    except DownloadError as exc:
        log.warning("attachment download failed: %s", type(exc).__name__)
        return replace(attachment, error="download_failed")
    return replace(attachment, stored_path=stored)


def _drain_locked(uow: UnitOfWork, conversation_id: int) -> None:
    session = uow.session
    # The row lock makes one worker at a time own this chat, so messages apply strictly in order.
    conversation = session.scalars(
        select(Conversation).where(Conversation.id == conversation_id).with_for_update()
    ).one_or_none()
    if conversation is None:
        return
    texts.refresh_overrides(session, now=utcnow())  # refusal texts below may be overridden
    written: list[OutboundMessage] = []
    for update in inbox.pending(session, conversation_id=conversation_id):
        if inbox.needs_download(update):
            # Arrived after the download pass: stop here to keep order and go round again.
            enqueue_after_commit(uow, conversation_id)
            break
        written += _handle_one(session, conversation, update)
    deliver_after_commit(uow, written)


def _handle_one(
    session: Session, conversation: Conversation, update: InboundUpdate
) -> list[OutboundMessage]:
    message = inbox.message_of(update)
    now = utcnow()
    written: list[OutboundMessage] = []
    if message.callback_id:
        written.append(_queue_callback_answer(session, conversation, update, message))
    refusal, error = _refusal(session, conversation, update, message)
    if refusal is not None:
        replies = refusal
    else:
        replies, error = _run_engine(session, conversation, update, message, now)
    written += outbox.write_many(
        session,
        channel=conversation.channel,
        recipient=conversation.chat_id,
        replies=replies,
        key_prefix=f"in:{update.id}",
        conversation_id=conversation.id,
    )
    inbox.mark_processed(session, update, now=now, error=error)
    return written


def _queue_callback_answer(
    session: Session, conversation: Conversation, update: InboundUpdate, message: InboundMessage
) -> OutboundMessage:
    row = outbox.write(
        session,
        channel=conversation.channel,
        recipient=conversation.chat_id,
        reply=Reply(text="", kind=CALLBACK_ANSWER),
        idempotency_key=f"cb:{update.id}",
        conversation_id=conversation.id,
    )
    row.extra = {**row.extra, "callback_id": message.callback_id}
    return row


def _refusal(
    session: Session, conversation: Conversation, update: InboundUpdate, message: InboundMessage
) -> tuple[list[Reply] | None, str | None]:
    """Answers given without the engine: flooding, refused images, unsupported kinds."""
    settings = get_settings()
    lang = conversation.language
    flood = _flood(conversation, update.received_at, settings)
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
    if errors:
        return [Reply(text=t("channels.image_download_failed", lang))], errors[0]
    if message.unsupported:
        key = (
            "channels.not_an_image" if message.unsupported == "document" else "channels.unsupported"
        )
        return [Reply(text=t(key, lang))], f"unsupported:{message.unsupported}"[:200]
    return None, None


def _flood(conversation: Conversation, received_at: datetime, settings: Settings) -> str | None:
    """ "warn" on the first message over the limit, "drop" until the chat is quiet for a window."""
    window = timedelta(seconds=settings.flood_window_seconds)
    start = conversation.flood_window_start
    if conversation.flood_warned:
        if start is not None and received_at - start < window:
            conversation.flood_window_start = received_at  # still noisy: the quiet period restarts
            return "drop"
        conversation.flood_warned = False
        start = None
    if start is None or received_at - start >= window:
        conversation.flood_window_start = received_at
        conversation.flood_count = 0
    conversation.flood_count += 1
    if conversation.flood_count > settings.flood_max_messages:
        conversation.flood_warned = True
        conversation.flood_window_start = received_at
        return "warn"
    return None


def _run_engine(
    session: Session,
    conversation: Conversation,
    update: InboundUpdate,
    message: InboundMessage,
    now: datetime,
) -> tuple[list[Reply], str | None]:
    try:
        with session.begin_nested():
            return list(runtime.handle_message(session, conversation, message, now=now)), None
    except OperationalError:
        raise  # lock timeout or database trouble: let Dramatiq retry the whole drain
    except Exception:
        # One poisoned message must not block the chat forever: answer it and move on.
        log.exception("conversation %s: engine failed on inbound %s", conversation.id, update.id)
        return [Reply(text=t("error.generic", conversation.language))], "engine_error"
