"""process_conversation (queue `default`): apply a chat's stored messages to it, one at a time, in order.

The conversation row is locked and its unprocessed inbound rows are drained in id order; each one is
applied with flows.inbound.apply (the conversation's rules, then the engine) and its replies go to
the outbox in the same transaction that marks it processed. After the commit this job sends those
replies itself (workers.delivery, inline). A row whose images are not downloaded yet ends the pass:
the images are fetched with no transaction open, then the drain goes on from that row.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from dataclasses import replace
from functools import partial

import dramatiq
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from channels.outbound import DownloadError, NotStored, TooLarge, fetch_attachment
from core.config import Settings, get_settings
from core.db import UnitOfWork, unit_of_work, utcnow
from core.enums import Channel, OutboundStatus
from core.messages import Attachment, InboundMessage
from core.messaging import inbox, outbox, texts
from core.models import Conversation, InboundUpdate, OutboundMessage
from core.payments import photos
from flows import inbound
from workers import redelivery
from workers.broker import broker, enqueue_batch
from workers.delivery import deliver_after_commit, http_client

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="default", broker=broker, max_retries=20)
def process_conversation(conversation_id: int) -> None:
    """Drain the conversation's inbox under its row lock, downloading images where it stops."""
    todo = _drain(conversation_id)
    if not todo:
        return
    for update_id, channel, message in todo:
        _download_and_record(update_id, channel, message)
    if _drain(conversation_id):  # another image came meanwhile: go round again
        enqueue(conversation_id)


class _Rerun(Exception):
    """The engine failed on inbound row ``update_id``: roll back, and answer it without the engine."""

    def __init__(self, update_id: int) -> None:
        super().__init__(update_id)
        self.update_id = update_id


def _drain(conversation_id: int) -> list[Download]:
    """One drain in one transaction; a row the engine failed on makes it start again.

    The engine runs without a savepoint (two round trips per message saved): when it raises, the
    whole transaction is rolled back and the drain applied again, that row answered as a failure.
    """
    failed: set[int] = set()
    while True:
        try:
            with unit_of_work() as uow:
                return _drain_locked(uow, conversation_id, failed)
        except _Rerun as rerun:
            failed.add(rerun.update_id)


def enqueue(conversation_id: int) -> None:
    """Send process_conversation now; use as ``uow.on_commit(partial(enqueue, id))``.

    A broker failure (Redis down) is logged, not raised: the row is committed; the send is
    retried every half second until Redis is back (workers.redelivery), and the sweeper also
    re-enqueues it.
    """
    send = partial(process_conversation.send, conversation_id)
    try:
        send()
    except Exception:  # noqa: BLE001
        log.warning("could not enqueue conversation %s; retrying", conversation_id)
        redelivery.later(("conversation", conversation_id), send)


def enqueue_many(conversation_ids: list[int]) -> None:
    """enqueue() for several conversations in one Redis round trip (the webhooks' group commit)."""
    try:
        enqueue_batch([process_conversation.message(cid) for cid in conversation_ids])
    except Exception:  # noqa: BLE001  (Redis down: each one goes the single way, with its retry)
        for conversation_id in conversation_ids:
            enqueue(conversation_id)


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
    except NotStored:
        return replace(attachment, error="not_stored")  # the runner is asked to resend it
    except DownloadError as exc:
        log.warning("attachment download failed: %s", type(exc).__name__)
        return replace(attachment, error="download_failed")
    return replace(attachment, stored_path=stored)


Download = tuple[int, Channel, InboundMessage]  # an inbound row id, its channel, its message


# Built once (every pass): executed with a parameter, no statement construction per call.
_LOCKED = (
    select(Conversation).where(Conversation.id == bindparam("conversation_id")).with_for_update()
)


def _drain_locked(
    uow: UnitOfWork, conversation_id: int, failed: AbstractSet[int] = frozenset()
) -> list[Download]:
    """Apply the pending rows in order up to the first with images still to fetch.

    Returns the downloads that row and the ones after it wait for (none: the inbox is drained).
    ``failed``: rows the engine raised on in an earlier try, answered without it.
    """
    session = uow.session
    # The row lock makes one worker at a time own this chat, so messages apply strictly in order.
    conversation = session.scalars(_LOCKED, {"conversation_id": conversation_id}).one_or_none()
    if conversation is None:
        return []
    texts.refresh_overrides(session, now=utcnow())  # refusal texts below may be overridden
    written: list[OutboundMessage] = []
    todo: list[Download] = []
    pending = inbox.pending(session, conversation_id=conversation_id)
    for n, update in enumerate(pending):
        message = inbox.message_of(update)
        if inbox.message_needs_download(message):
            # Stop here to keep the order; the images are fetched with no transaction open.
            todo = [
                (u.id, Channel(u.channel), m)
                for u in pending[n:]
                if inbox.message_needs_download(m := inbox.message_of(u))
            ]
            break
        written += _handle_one(session, conversation, update, message, failed)
    fresh = written  # inserted by this transaction: claimed in it, sent right after the commit
    if not pending:
        written, fresh = _unsent_replies(session, conversation_id), []
    rows = written + outbox.take_remembered(session)
    deliver_after_commit(uow, rows, inline=True, fresh=fresh)
    return todo


def _unsent_replies(session: Session, conversation_id: int) -> list[OutboundMessage]:
    """Replies committed but maybe never queued: the job that wrote them died before enqueueing.

    Dramatiq redelivers that job (it was never acknowledged) and it finds nothing to do; queueing
    their delivery here answers the runner now instead of at the sweeper's turn (a minute later).
    A drain for a recipient already queued finds the rows claimed or sent: harmless.
    """
    return list(
        session.scalars(
            select(OutboundMessage)
            .where(
                OutboundMessage.conversation_id == conversation_id,
                OutboundMessage.status == OutboundStatus.PENDING.value,
                OutboundMessage.next_attempt_at.is_(None),
            )
            .limit(20)
        )
    )


def _handle_one(
    session: Session,
    conversation: Conversation,
    update: InboundUpdate,
    message: InboundMessage,
    failed: AbstractSet[int],
) -> list[OutboundMessage]:
    now, update_id = utcnow(), update.id  # the id is read before a failure expires the row
    try:
        applied = inbound.apply(
            session, conversation, message, received_at=update.received_at, now=now,
            savepoint=False, engine=update_id not in failed,
        )  # fmt: skip
    except inbound.EngineFailed:
        raise _Rerun(update_id) from None
    # Claimed as written: deliver_after_commit(inline=True) sends them right after the commit.
    written = inbound.queue(session, conversation, applied, update_id=update_id, claim_at=now)
    inbox.mark_processed(session, update, now=now, error=applied.error)
    return written
