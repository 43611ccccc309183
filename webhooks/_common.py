"""Shared webhook plumbing: store a normalised message durably, enqueue processing after commit."""

from __future__ import annotations

import logging
from functools import partial

from sqlalchemy.exc import SQLAlchemyError

from core.config import get_settings
from core.db import unit_of_work
from core.messages import InboundMessage
from core.messaging import inbox
from workers import prefetch
from workers.conversations import enqueue_after_commit

log = logging.getLogger(__name__)


class StoreFailed(RuntimeError):
    """The database did not take the delivery; answer non-2xx so the provider retries."""


def store(message: InboundMessage) -> bool:
    """Record one delivery (deduplicated) and enqueue its conversation after the commit.

    Returns False for a re-delivery. Runs in a worker thread (sync database access).
    """
    try:
        with unit_of_work() as uow:
            update = inbox.record_inbound(uow.session, message)
            if update is not None and update.conversation_id is not None:
                # enqueue() itself swallows broker errors: the row is committed, the sweeper has it.
                enqueue_after_commit(uow, update.conversation_id)
                if inbox.needs_download(update) and get_settings().redis_url:
                    uow.on_commit(partial(prefetch.submit, update.id))
    except SQLAlchemyError as exc:
        log.error("could not store %s delivery: %s", message.channel.value, type(exc).__name__)
        raise StoreFailed from exc
    if update is None:
        log.info("duplicate %s delivery ignored", message.channel.value)
        return False
    return True
