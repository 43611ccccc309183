"""Token buckets, in-process and shared through Redis; reminders keep headroom for replies."""

from __future__ import annotations

from typing import Any

import pytest

from workers.ratelimit import Bucket, Limiter


@pytest.fixture(params=["local", "redis"])
def limiter(request: pytest.FixtureRequest) -> Limiter:
    if request.param == "local":
        return Limiter()
    client: Any = request.getfixturevalue("redis_client")
    return Limiter(client)


def test_burst_then_wait(limiter: Limiter) -> None:
    bucket = [Bucket("chat:1", rate=1.0, burst=3)]
    assert [limiter.acquire(bucket) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire(bucket)
    assert 0 < wait <= 1.0


def test_all_buckets_or_none(limiter: Limiter) -> None:
    overall = Bucket("all", rate=1.0, burst=1)
    assert limiter.acquire([overall, Bucket("chat:a", 1.0, 5)]) == 0.0
    assert limiter.acquire([overall, Bucket("chat:b", 1.0, 5)]) > 0
    # chat:b was not charged by the refused attempt
    assert [limiter.acquire([Bucket("chat:b", 1.0, 5)]) for _ in range(5)] == [0.0] * 5


def test_reserve_keeps_tokens_for_replies(limiter: Limiter) -> None:
    reply = [Bucket("device", rate=1.0, burst=2)]
    bulk = [Bucket("device", rate=1.0, burst=2, reserve=1)]
    assert limiter.acquire(bulk) == 0.0  # a full bucket: the reminder may go
    assert limiter.acquire(bulk) > 0  # one token left: kept for a reply
    assert limiter.acquire(reply) == 0.0
