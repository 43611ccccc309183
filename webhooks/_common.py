"""Shared webhook plumbing: store a normalised message durably, enqueue processing after commit.

Telegram and Fonnte deliveries go through a group commit: the requests waiting in one process
hand their messages to at most ``WRITERS`` writers, each storing everything waiting (up to
``MAX_BATCH``) in one transaction, so a busy process pays one commit per batch instead of one per
request. There is no timer: the first request of a quiet moment is written at once, and whatever
arrives while a batch is in flight makes up the next one. Each request is answered only after its
own batch committed; the writer then enqueues the batch's conversations (the answer does not wait
for Redis; a job lost in between is the sweeper's).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import deque
from collections.abc import Callable
from functools import partial

from anyio import to_thread
from sqlalchemy.exc import SQLAlchemyError

from core.config import get_settings
from core.db import unit_of_work
from core.messages import InboundMessage
from core.messaging import inbox
from workers import prefetch
from workers.conversations import enqueue_many

log = logging.getLogger(__name__)

WRITERS = 2  # batches in flight per process: one fills while the other waits on PostgreSQL
MAX_BATCH = 200


class StoreFailed(RuntimeError):
    """The database did not take the delivery; answer non-2xx so the provider retries."""


def store(message: InboundMessage) -> bool:
    """Record one delivery (deduplicated) and enqueue its conversation after the commit.

    Returns False for a re-delivery. Runs in a worker thread (sync database access).
    """
    result = store_many([message])[0]
    if isinstance(result, StoreFailed):
        raise result
    return result


def store_many(messages: list[InboundMessage]) -> list[bool | StoreFailed]:
    """store() for many deliveries in one transaction; one result per message, in order.

    When the batch fails, each message is tried alone, so one delivery the database refuses
    fails only its own request (the others are still acknowledged).
    """
    results, after = _store_all(messages)
    _run(after)
    return results


def _store_all(
    messages: list[InboundMessage],
) -> tuple[list[bool | StoreFailed], list[Callable[[], None]]]:
    """store_many without the after-commit steps: the results, and the steps to run."""
    results, after = _store_batch(messages)
    if len(messages) == 1 or not any(isinstance(r, StoreFailed) for r in results):
        return results, after
    results, after = [], []
    for message in messages:
        result, steps = _store_batch([message])
        results += result
        after += steps
    return results, after


def _store_batch(
    messages: list[InboundMessage],
) -> tuple[list[bool | StoreFailed], list[Callable[[], None]]]:
    """One transaction; the after-commit steps are returned (only once it committed), not run."""
    after: list[Callable[[], None]] = []
    try:
        with unit_of_work() as uow:
            stored = inbox.store_inbound_batch(uow.session, messages)
            # One job per conversation (it drains every row committed before it runs), all in one
            # Redis round trip; broker errors are swallowed: the rows are committed, retried later.
            conversations = list(dict.fromkeys(s.conversation_id for s in stored if s))
            if conversations:
                after.append(partial(enqueue_many, conversations))
            if get_settings().redis_url:
                for message, row in zip(messages, stored, strict=True):
                    if row is not None and inbox.message_needs_download(message):
                        after.append(partial(prefetch.submit, row.update_id))
    except SQLAlchemyError as exc:
        log.error("could not store %d delivery(ies): %s", len(messages), type(exc).__name__)
        return [StoreFailed(type(exc).__name__) for _ in messages], []
    for message, row in zip(messages, stored, strict=True):
        if row is None:
            log.info("duplicate %s delivery ignored", message.channel.value)
    return [row is not None for row in stored], after


def _run(after: list[Callable[[], None]]) -> None:
    """The after-commit steps: the rows are committed, so a failing one is logged, not raised."""
    for step in after:
        try:
            step()
        except Exception:  # noqa: BLE001  (the sweeper enqueues what was left behind)
            log.exception("after-commit step failed")


def _commit_then_enqueue(
    messages: list[InboundMessage], settle: Callable[[list[bool | StoreFailed]], None]
) -> None:
    """The group commit's worker thread: store, answer the requests, then enqueue their jobs.

    A request is answered once its row is committed, not after its conversation's job is built
    and sent too (up to half of a large batch's time): a job lost in between, the process killed,
    is re-enqueued by the sweeper, as when Redis is down.
    """
    results, after = _store_all(messages)
    settle(results)
    _run(after)


class GroupCommit:
    """Collects one event loop's deliveries and writes them in batches (see the module docstring)."""

    def __init__(self, writers: int = WRITERS, max_batch: int = MAX_BATCH) -> None:
        self._waiting: deque[tuple[InboundMessage, asyncio.Future[bool]]] = deque()
        self._writers = writers
        self._max_batch = max_batch
        self._busy = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def store(self, message: InboundMessage) -> bool:
        """Store ``message`` with whatever else is waiting; False for a re-delivery."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append((message, future))
        if self._busy < self._writers:
            self._busy += 1
            task = asyncio.create_task(self._write())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                count = min(len(self._waiting), self._max_batch)
                batch = [self._waiting.popleft() for _ in range(count)]

                def settle(
                    results: list[bool | StoreFailed],
                    batch: list[tuple[InboundMessage, asyncio.Future[bool]]] = batch,
                ) -> None:  # from the worker thread, as soon as the batch is committed
                    loop.call_soon_threadsafe(_settle, batch, results)

                try:
                    await to_thread.run_sync(_commit_then_enqueue, [m for m, _ in batch], settle)
                except Exception:  # a bug, not the database: fail these, keep serving the rest
                    log.exception("webhook batch store failed")
                    _settle(batch, [StoreFailed("store failed")] * len(batch))
                except BaseException:  # cancelled (shutdown): nobody is left to write the rest
                    _settle(batch, [StoreFailed("writer stopped")] * len(batch))
                    raise
        finally:
            self._busy -= 1


def _settle(
    batch: list[tuple[InboundMessage, asyncio.Future[bool]]], results: list[bool | StoreFailed]
) -> None:
    for (_, future), result in zip(batch, results, strict=True):
        if future.done():  # the request went away (client disconnected)
            continue
        if isinstance(result, StoreFailed):
            future.set_exception(result)
        else:
            future.set_result(result)


_group_commits: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, GroupCommit] = (
    weakref.WeakKeyDictionary()
)


async def store_delivery(message: InboundMessage) -> bool:
    """Store one webhook delivery through this event loop's group commit; raise StoreFailed."""
    loop = asyncio.get_running_loop()
    group = _group_commits.get(loop)
    if group is None:
        group = _group_commits[loop] = GroupCommit()
    return await group.store(message)
