"""The rush bench's own parts at scale: pool shards, roles apart, an inbox that keeps only unread."""

from __future__ import annotations

import asyncio

from bench import rush
from bench._procstat import _descendants


def test_connections_are_split_into_pools_of_ten() -> None:
    assert rush._shards(100) == [10] * 10
    assert rush._shards(25) == [10, 10, 5]
    assert rush._shards(0) == [1]


def test_a_role_stops_at_another_roles_root() -> None:
    # bench (1) spawned api (2, with a child 3) and workers (4); the bench's own role is 1 alone.
    stats = {1: (0, 1.0), 2: (1, 1.0), 3: (2, 1.0), 4: (1, 1.0)}
    assert sorted(_descendants(1, stats, {2, 4})) == [1]
    assert sorted(_descendants(2, stats, {1, 4})) == [2, 3]
    assert sorted(_descendants(1, stats)) == [1, 2, 3, 4]


def test_the_inbox_counts_everything_and_keeps_only_unread_texts() -> None:
    loop = asyncio.new_event_loop()
    try:
        inbox = rush.Inbox(loop)
        inbox.on_sent("telegram", "1", "hello")
        inbox.on_sent("telegram", "1", "question")
        assert loop.run_until_complete(inbox.wait_beyond("telegram:1", 1, 0.1))
        assert not loop.run_until_complete(inbox.wait_beyond("telegram:1", 2, 0.05))
        assert inbox.take("telegram:1") == ["hello", "question"]
        assert inbox.take("telegram:1") == []
        inbox.finish("telegram:1")
        inbox.on_sent("telegram", "1", "late")  # after the runner is done: counted, not kept
        assert inbox.count("telegram:1") == 3 and inbox.delivered == 3
        assert inbox.unread == {}
    finally:
        loop.close()


def test_the_peak_rate_is_the_busiest_window_of_sends() -> None:
    from bench import _rush_check as check

    steady = [n / 9 for n in range(90)]  # 9 a second for 10 s
    assert 8.5 < check.peak_rate(steady) <= 9.4
    burst = [0.0] * 20 + [30.0]  # 20 at once, then one much later: 20 in a 5 s window
    assert check.peak_rate(burst) == 4.0
    assert check.peak_rate([]) == 0.0
