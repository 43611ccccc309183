"""Shared webhook plumbing: store a normalised message durably, enqueue processing after commit."""

from __future__ import annotations

import logging
from functools import lru_cache, partial

import anyio
from anyio import to_thread
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


@lru_cache
def _store_limiter() -> anyio.CapacityLimiter:
    """At most one store thread per pooled connection: more only queue on the pool and the GIL."""
    settings = get_settings()
    return anyio.CapacityLimiter(max(1, settings.db_pool_size + settings.db_max_overflow))


async def store_in_thread(message: InboundMessage) -> bool:
    """store() off the event loop, limited to the database pool's size."""
    return await to_thread.run_sync(store, message, limiter=_store_limiter())


def store(message: InboundMessage) -> bool:
    """Record one delivery (deduplicated) and enqueue its conversation after the commit.

    Returns False for a re-delivery. Runs in a worker thread (sync database access).
    """
    try:
        with unit_of_work() as uow:
            update = inbox.store_inbound(uow.session, message)
            if update is not None:
                # enqueue() itself swallows broker errors: the row is committed, the sweeper has it.
                enqueue_after_commit(uow, update.conversation_id)
                if inbox.message_needs_download(message) and get_settings().redis_url:
                    uow.on_commit(partial(prefetch.submit, update.update_id))
    except SQLAlchemyError as exc:
        log.error("could not store %s delivery: %s", message.channel.value, type(exc).__name__)
        raise StoreFailed from exc
    if update is None:
        log.info("duplicate %s delivery ignored", message.channel.value)
        return False
    return True
