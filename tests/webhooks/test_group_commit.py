"""The webhooks' group commit: many deliveries, one transaction, each request answered on its own."""

from __future__ import annotations

import asyncio
from typing import Any

from dramatiq import Message

from core.db import unit_of_work
from core.enums import Channel
from core.messages import InboundMessage
from core.messaging import inbox
from core.models import Conversation, InboundUpdate
from tests.channels.helpers import count, inbound_rows, wait_until
from webhooks._common import GroupCommit, StoreFailed, store_many
from workers.conversations import enqueue_many, process_conversation


def _message(n: int, chat: int, external_id: str | None = None) -> InboundMessage:
    return InboundMessage(
        channel=Channel.TELEGRAM,
        external_id=external_id or str(n),
        chat_id=str(chat),
        sender_name=f"Runner {chat}",
        text=f"pesan {n}",
    )


def test_batch_stores_once_links_new_chats_and_keeps_arrival_order(committed_db: None) -> None:
    with unit_of_work() as uow:
        inbox.store_inbound_batch(uow.session, [_message(1, chat=7)])
    batch = [_message(n, chat=7 + n % 3) for n in range(2, 12)] + [_message(3, chat=8)]
    with unit_of_work() as uow:
        stored = inbox.store_inbound_batch(uow.session, batch)
    assert stored[-1] is None  # repeated inside the batch
    with unit_of_work() as uow:  # a re-delivery of the whole batch stores nothing
        assert inbox.store_inbound_batch(uow.session, batch) == [None] * len(batch)
    rows = inbound_rows()
    assert [r.external_id for r in rows] == [str(n) for n in range(1, 12)]  # ids in arrival order
    conversations = {r.chat_id: r.conversation_id for r in rows}
    assert None not in conversations.values() and len(set(conversations.values())) == 3
    assert [s.conversation_id for s in stored[:-1] if s] == [
        conversations[m.chat_id] for m in batch[:-1]
    ]
    assert count(Conversation) == 3


def test_one_refused_delivery_fails_alone(committed_db: None, broker: Any) -> None:
    batch = [_message(1, chat=1), _message(2, chat=2, external_id="x" * 300), _message(3, chat=1)]
    results = store_many(batch)
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], StoreFailed)
    assert count(InboundUpdate) == 2


def test_concurrent_requests_share_batches_and_each_gets_its_answer(
    committed_db: None, broker: Any
) -> None:
    messages = [_message(n, chat=n % 20) for n in range(300)] + [_message(5, chat=5)]

    async def run() -> list[bool]:
        group = GroupCommit(writers=2, max_batch=50)
        return await asyncio.gather(*(group.store(m) for m in messages))

    results = asyncio.run(run())
    assert results == [True] * 300 + [False]
    assert count(InboundUpdate) == 300 and count(Conversation) == 20
    # Every conversation enqueued (one job per conversation and batch), in pipelined round trips.
    assert 20 <= broker.client.llen(f"{broker.namespace}:default") <= 300


def _queued(broker: Any) -> list[Message[Any]]:
    """The messages on the default queue, in order, each read as a worker's fetch reads it."""
    key = f"{broker.namespace}:default"
    ids = broker.client.lrange(key, 0, -1)
    return [Message.decode(data) for data in broker.client.hmget(f"{key}.msgs", ids)]


def test_enqueue_many_puts_every_job_on_the_queue_as_send_would(broker: Any) -> None:
    process_conversation.send(10)
    enqueue_many([11, 12, 13])
    queued = _queued(broker)
    key = f"{broker.namespace}:default"
    assert [m.args for m in queued] == [(10,), (11,), (12,), (13,)]
    sent, *batched = queued
    for message in batched:  # the same fields, options and encoding as send()'s
        assert message.asdict().keys() == sent.asdict().keys()
        assert (message.queue_name, message.actor_name, message.kwargs) == (
            sent.queue_name,
            sent.actor_name,
            sent.kwargs,
        )
        assert message.options.keys() == sent.options.keys() == {"redis_message_id"}
    ids = broker.client.lrange(key, 0, -1)
    assert [m.options["redis_message_id"].encode() for m in queued] == ids
    assert len({m.message_id for m in queued}) == len(set(ids)) == 4


def test_batched_jobs_run_once_each(broker: Any, committed_db: None) -> None:
    from dramatiq import Worker

    stored = store_many([_message(n, chat=n % 3) for n in range(9)])
    assert stored == [True] * 9
    worker = Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    try:
        wait_until(lambda: count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0)
        broker.join("default", timeout=20_000)
    finally:
        worker.stop(timeout=10_000)
    assert [r.attempts for r in inbound_rows()] == [1] * 9
    assert broker.client.hlen(f"{broker.namespace}:default.msgs") == 0  # every job acknowledged


def test_enqueue_many_after_redis_lost_its_scripts(broker: Any) -> None:
    """A restarted Redis has no scripts: the batch still goes through (the head sent alone)."""
    broker.client.script_flush()
    enqueue_many([21, 22, 23])
    assert [m.args for m in _queued(broker)] == [(22,), (23,), (21,)]
    enqueue_many([24, 25])  # the script is loaded again: back to one round trip
    assert [m.args for m in _queued(broker)][3:] == [(24,), (25,)]


def test_batched_enqueue_survives_redis_down(committed_db: None, broker: Any) -> None:
    from tests.workers.test_sweeper import _redis, _start_redis

    _redis("shutdown", "nosave")
    try:
        # Committed and acknowledged although nothing could be enqueued: redelivery retries.
        assert store_many([_message(1, chat=1), _message(2, chat=2)]) == [True, True]
        assert count(InboundUpdate) == 2
    finally:
        _start_redis()
    wait_until(lambda: broker.client.llen(f"{broker.namespace}:default") == 2, what="re-enqueued")
