"""workers.redelivery: an enqueue that failed (Redis away) is sent again once it goes through.

The last test stops and starts the suite's real Redis (like tests/workers/test_sweeper.py).
"""

from __future__ import annotations

import time
from typing import Any

from core.models import InboundUpdate
from tests.channels.helpers import count, inbound_rows, tg_headers, tg_text, wait_until
from tests.workers.test_sweeper import _redis, _start_redis
from workers import redelivery


def test_failed_sends_are_retried_until_they_pass_newest_per_key() -> None:
    calls: list[str] = []
    outage = {"until": time.monotonic() + 1.2}

    def sender(name: str):
        def send() -> None:
            if time.monotonic() < outage["until"]:
                raise ConnectionError("redis down")
            calls.append(name)

        return send

    redelivery.later(("conversation", 1), sender("old"))
    redelivery.later(("conversation", 1), sender("new"))  # same key: only the newest is kept
    redelivery.later(("conversation", 2), sender("other"))
    deadline = time.monotonic() + 10
    while redelivery.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(calls) == ["new", "other"]
    assert time.monotonic() - outage["until"] < 2  # sent within a second of the return


def test_messages_stored_while_redis_is_down_are_processed_once_when_it_returns(
    client: Any, channels: Any
) -> None:
    """A real Redis stop/start: no sweeper; the per-process retry sends the backlog on return."""
    fake_telegram, _ = channels
    chats = [2000 + n for n in range(4)]
    _redis("shutdown", "nosave")
    try:
        for n, chat in enumerate(chats):
            body = tg_text(910000 + n, "/start", chat_id=chat)
            assert (
                client.post("/webhooks/telegram", json=body, headers=tg_headers()).status_code
                == 200
            )
        # Stored and acknowledged; the enqueue, tried just after the answer, is remembered.
        wait_until(lambda: redelivery.pending() >= len(chats), timeout=10)
    finally:
        _start_redis()
    returned = time.monotonic()
    wait_until(lambda: count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0, timeout=20)
    wait_until(lambda: all(fake_telegram.sent_texts(c) for c in chats), timeout=20)
    assert time.monotonic() - returned < 15, "the backlog moved without waiting for the sweeper"
    # Each message applied once, each chat answered once (a second greeting would mean twice).
    assert all(r.attempts == 1 for r in inbound_rows())
    time.sleep(1)  # a duplicate enqueue would land within the retry loop's next rounds
    assert [len(fake_telegram.sent_texts(c)) for c in chats] == [1] * len(chats)
