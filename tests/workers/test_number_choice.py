"""The start link's choice of WhatsApp number: shortest queue first, never a paused number.

Queues are real outbox rows on PostgreSQL (counted per number the way the operations page does),
pauses are the delivery's own 429 pauses in Redis.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from core.db import unit_of_work
from core.models import Conversation, OutboundMessage
from workers.number_choice import Chooser, pending_from_database
from workers.ratelimit import Limiter

A, B, C = "628111000111", "628222000222", "628333000333"


def _queue(counts: dict[str, int]) -> None:
    """``n`` pending messages from each number (to one runner each), plus sent ones (not counted)."""
    with unit_of_work() as uow:
        for number, n in counts.items():
            chat = f"6281{number[-6:]}"
            uow.session.add(Conversation(channel="whatsapp", chat_id=chat, device=number))
            for i in range(n + 5):
                status = "pending" if i < n else "sent"
                uow.session.add(
                    OutboundMessage(channel="whatsapp", recipient=chat, text="halo",
                                    status=status, idempotency_key=f"q:{number}:{i}")
                )  # fmt: skip


@pytest.fixture
def chooser(committed_db: None, redis_client: Any) -> Chooser:
    return Chooser(redis_client, pending_from_database)


def test_a_thousand_hits_fill_three_numbers_by_queue_length(chooser: Chooser) -> None:
    _queue({A: 0, B: 60, C: 120})
    assert pending_from_database() == {B: 60, C: 120}  # sent rows do not count
    hits = Counter(chooser.choose([A, B, C]) for _ in range(1000))
    # Water filling: the emptiest number takes runners until it is level with the next one,
    # then they take turns, so every number ends with about (180 + 1000) / 3 in its queue.
    assert hits[A] + hits[B] + hits[C] == 1000
    assert abs(hits[A] - 393) <= 1 and abs(hits[B] - 333) <= 1 and abs(hits[C] - 273) <= 1
    loads = {A: hits[A], B: 60 + hits[B], C: 120 + hits[C]}
    assert max(loads.values()) - min(loads.values()) <= 1


def test_equal_queues_take_turns(chooser: Chooser) -> None:
    picks = [chooser.choose([A, B, C]) for _ in range(9)]
    assert Counter(picks) == {A: 3, B: 3, C: 3}
    assert len(set(picks[:3])) == 3  # never twice in a row while another is as short


def test_a_number_paused_by_a_429_is_never_chosen(chooser: Chooser, redis_client: Any) -> None:
    _queue({A: 0, B: 40, C: 40})  # the paused one has by far the shortest queue
    Limiter(redis_client).pause(f"wa:{A}", 30)  # what workers.delivery does on Fonnte's 429
    hits = Counter(chooser.choose([A, B, C]) for _ in range(300))
    assert hits[A] == 0 and abs(hits[B] - hits[C]) <= 1


def test_when_every_number_is_paused_the_soonest_back_is_chosen(
    chooser: Chooser, redis_client: Any
) -> None:
    limiter = Limiter(redis_client)
    for number, seconds in ((A, 60), (B, 5), (C, 30)):
        limiter.pause(f"wa:{number}", seconds)
    assert {chooser.choose([A, B, C]) for _ in range(20)} == {B}


def test_hits_from_other_processes_count_too(chooser: Chooser, redis_client: Any) -> None:
    """Two API processes share the counts through Redis, so together they still spread evenly."""
    other = Chooser(redis_client, pending_from_database)
    picks = [(chooser if n % 2 else other).choose([A, B]) for n in range(100)]
    assert Counter(picks) == {A: 50, B: 50}


def test_without_redis_one_process_still_spreads(committed_db: None) -> None:
    _queue({A: 10, B: 0})
    local = Chooser(None, pending_from_database)
    hits = Counter(local.choose([A, B]) for _ in range(30))
    assert hits == {A: 10, B: 20}
