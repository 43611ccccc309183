"""The rush bench's own parts at scale: pool shards, roles apart, an inbox that keeps only unread."""

from __future__ import annotations

import asyncio
from typing import Any

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


def _row(id_: int, chat: str, created: float, sent: float, channel: str = "telegram") -> Any:
    from bench._pace_ideal import Row

    return Row(id_, channel, chat, "reply", "", created, sent)


def test_the_ideal_sender_keeps_the_ceiling_and_each_chats_bucket() -> None:
    from bench._pace_ideal import Limit, Pace, ideal_times

    pace = Pace(ceiling=Limit(rate=2.0, burst=2.0), chat=Limit(rate=1.0, burst=1.0))
    # Four rows written at once in four chats: two at once (the ceiling's burst), then 2 a second.
    rows = [_row(i, f"c{i}", 0.0, 0.0) for i in range(4)]
    assert sorted(ideal_times(rows, pace).values()) == [0.0, 0.0, 0.5, 1.0]
    # Three rows of one chat written at once: the chat's bucket, one a second, in order.
    rows = [_row(i, "c", 0.0, 0.0) for i in range(3)]
    assert ideal_times(rows, pace) == {0: 0.0, 1: 1.0, 2: 2.0}
    # A row is never sent before it is written, and the idle time refills the buckets.
    assert ideal_times([_row(1, "a", 0.0, 0), _row(2, "a", 10.0, 0)], pace) == {1: 0.0, 2: 10.0}


def test_what_our_queues_added_is_sent_minus_ideal_per_channel() -> None:
    from bench._pace_ideal import added

    env = {"TELEGRAM_MAX_PER_SECOND": "1", "TELEGRAM_CHAT_MAX_PER_SECOND": "10"}
    rows = [_row(1, "a", 0.0, 0.2), _row(2, "b", 0.0, 1.5), _row(3, "c", 0.0, 0.1, "whatsapp")]
    got = added(rows, env)
    # Telegram at 1/s (burst 1): ideal 0.0 and 1.0; WhatsApp at its defaults: ideal 0.0.
    assert [round(x, 3) for x in got["telegram"]] == [0.2, 0.5]
    assert [round(x, 3) for x in got["whatsapp"]] == [0.1]
