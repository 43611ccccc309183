"""The webhooks' group commit: many deliveries, one transaction, each request answered on its own."""

from __future__ import annotations

import asyncio
from typing import Any

from core.db import unit_of_work
from core.enums import Channel
from core.messages import InboundMessage
from core.messaging import inbox
from core.models import Conversation, InboundUpdate
from tests.channels.helpers import count, inbound_rows
from webhooks._common import GroupCommit, StoreFailed, store_many
from workers.conversations import enqueue_many


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


def test_enqueue_many_puts_every_job_on_the_queue(broker: Any) -> None:
    enqueue_many([11, 12, 13])
    assert broker.client.llen(f"{broker.namespace}:default") == 3


def test_batched_enqueue_survives_redis_down(committed_db: None, broker: Any) -> None:
    from tests.channels.helpers import wait_until
    from tests.workers.test_sweeper import _redis, _start_redis

    _redis("shutdown", "nosave")
    try:
        # Committed and acknowledged although nothing could be enqueued: redelivery retries.
        assert store_many([_message(1, chat=1), _message(2, chat=2)]) == [True, True]
        assert count(InboundUpdate) == 2
    finally:
        _start_redis()
    wait_until(lambda: broker.client.llen(f"{broker.namespace}:default") == 2, what="re-enqueued")
