"""Token buckets, in-process and shared through Redis; reminders keep headroom for replies."""

from __future__ import annotations

from typing import Any

import pytest

from workers.ratelimit import Bucket, Limiter, Pace


def _take(limiter: Limiter, buckets: list[Bucket], pause_key: str = "") -> float:
    """0 when the tokens were taken now, else the seconds to wait (nothing reserved ahead)."""
    wait, taken = limiter.reserve(buckets, pause_keys=(pause_key,) if pause_key else ())
    return 0.0 if taken else wait


@pytest.fixture(params=["local", "redis"])
def limiter(request: pytest.FixtureRequest) -> Limiter:
    if request.param == "local":
        return Limiter()
    client: Any = request.getfixturevalue("redis_client")
    return Limiter(client)


def test_burst_then_wait(limiter: Limiter) -> None:
    bucket = [Bucket("chat:1", rate=1.0, burst=3)]
    assert [_take(limiter, bucket) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = _take(limiter, bucket)
    assert 0 < wait <= 1.0


def test_all_buckets_or_none(limiter: Limiter) -> None:
    overall = Bucket("all", rate=1.0, burst=1)
    assert _take(limiter, [overall, Bucket("chat:a", 1.0, 5)]) == 0.0
    assert _take(limiter, [overall, Bucket("chat:b", 1.0, 5)]) > 0
    # chat:b was not charged by the refused attempt
    assert [_take(limiter, [Bucket("chat:b", 1.0, 5)]) for _ in range(5)] == [0.0] * 5


def test_reserve_keeps_tokens_for_replies(limiter: Limiter) -> None:
    reply = [Bucket("device", rate=1.0, burst=2)]
    bulk = [Bucket("device", rate=1.0, burst=2, reserve=1)]
    assert _take(limiter, bulk) == 0.0  # a full bucket: the reminder may go
    assert _take(limiter, bulk) > 0  # one token left: kept for a reply
    assert _take(limiter, reply) == 0.0


def test_charged_replies_never_wait_but_make_bulk_yield(limiter: Limiter) -> None:
    overall_reply = Bucket("all", rate=1.0, burst=2, charge=True)
    overall_bulk = Bucket("all", rate=1.0, burst=2, reserve=1)
    # Ten replies in a row: none waits on the provider-wide bucket ...
    assert [_take(limiter, [overall_reply]) for _ in range(10)] == [0.0] * 10
    # ... and bulk behind them waits until the debt (bounded by the burst) is paid back.
    assert _take(limiter, [overall_bulk]) > 1.0


def test_pause_holds_every_sender_of_that_bot(limiter: Limiter) -> None:
    chat = [Bucket("chat:p", rate=100.0, burst=100)]
    limiter.pause("tg", 2.0)
    wait = _take(limiter, chat, pause_key="tg")
    assert 1.0 < wait <= 2.0
    assert _take(limiter, chat, pause_key="wa") == 0.0  # another bot is not paused
    assert _take(limiter, chat) == 0.0


def test_pace_halves_on_429_and_recovers_linearly() -> None:
    pace = Pace(recover_seconds=60, floor=0.1)
    assert pace.factor("tg", now=0) == 1.0
    assert pace.slow_down("tg", now=0) == 0.5
    assert pace.slow_down("tg", now=0) == 0.25
    assert pace.factor("tg", now=30) == pytest.approx(0.25 + 0.45)
    assert pace.factor("tg", now=60) == 1.0
    for _ in range(10):
        pace.slow_down("wa", now=0)
    assert pace.factor("wa", now=0) == 0.1  # never below the floor


def test_a_short_wait_is_reserved_and_later_callers_queue_behind_it(limiter: Limiter) -> None:
    chat = [Bucket("chat:r", rate=2.0, burst=1)]
    assert limiter.reserve(chat, max_wait=1.0) == (0.0, True)
    wait, taken = limiter.reserve(
        chat, max_wait=1.0
    )  # due in 0.5 s: taken now, slept by the caller
    assert taken and 0.4 < wait <= 0.5
    wait, taken = limiter.reserve(chat, max_wait=1.0)  # behind that one: 1 s
    assert taken and 0.9 < wait <= 1.0
    wait, taken = limiter.reserve(chat, max_wait=1.0)  # 1.5 s is too long: nothing taken
    assert not taken and 1.4 < wait <= 1.5
    assert _take(limiter, chat) > 1.4  # the refused reservation charged nothing


def test_a_chat_pause_holds_that_chat_only(limiter: Limiter) -> None:
    limiter.pause("tg:chat:1", 2.0)
    bucket = [Bucket("tg:ceiling", rate=100.0, burst=100)]
    wait, taken = limiter.reserve(bucket, pause_keys=("tg", "tg:chat:1"), max_wait=5.0)
    assert not taken and 1.0 < wait <= 2.0  # a pause is never reserved through
    assert limiter.reserve(bucket, pause_keys=("tg", "tg:chat:2")) == (0.0, True)


def test_level_reads_the_tokens_left(limiter: Limiter) -> None:
    bucket = Bucket("tg:ceiling:level", rate=1.0, burst=10)
    assert limiter.level(bucket) == 10
    for _ in range(6):
        _take(limiter, [bucket])
    assert 3.9 < limiter.level(bucket) < 4.5
