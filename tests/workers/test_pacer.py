"""The pacer: a reserved slot in the future is sent by the process's pacer, not slept in a worker.

State- and order-based (no timed assertions): a chat at a slow per-chat pace gets its fourth row
a few seconds after the burst of three, which leaves ample room to look at the state meanwhile.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.config import get_settings
from core.enums import Channel, OutboundStatus
from tests.channels.helpers import wait_until
from tests.workers.test_delivery import _queue, _sent, _status
from workers import delivery
from workers.delivery import drain
from workers.pacer import pacer

TEXTS = ("satu", "dua", "tiga", "empat", "lima")


def _slow_chat(monkeypatch: pytest.MonkeyPatch, chat: str, *texts: str) -> list[int]:
    """Rows for ``chat`` (not delivered) at 0.5 msg/s per chat: a burst of 3, then every 2 s."""
    monkeypatch.setenv("TELEGRAM_CHAT_MAX_PER_SECOND", "0.5")
    get_settings.cache_clear()
    return _queue(Channel.TELEGRAM, chat, *texts, deliver=False)


def _held_by_pacer(row_id: int) -> bool:
    return _status(row_id).status == OutboundStatus.SENDING and row_id in delivery._held  # noqa: SLF001


def test_paced_rows_go_out_from_the_pacer_in_order(
    fake_telegram: Any, fast_limits: None, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _slow_chat(monkeypatch, "71", *TEXTS)
    drain("telegram", "71")  # returns at once: the burst went out, the rest is the pacer's
    assert [_sent(i) for i in ids[:3]] == [True, True, True]
    assert _held_by_pacer(ids[3]) and _held_by_pacer(ids[4])  # still claimed, leases renewed
    wait_until(lambda: all(_sent(i) for i in ids), what="the pacer's sends")
    assert fake_telegram.sent_texts(71) == list(TEXTS)
    assert not any(i in delivery._held for i in ids)  # noqa: SLF001  (all settled)


def test_a_worker_thread_is_free_while_its_chat_waits(
    fake_telegram: Any, fast_limits: None, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = _slow_chat(monkeypatch, "72", *TEXTS[:4])
    (other,) = _queue(Channel.TELEGRAM, "73", "lain", deliver=False)
    drain("telegram", "72")
    assert _held_by_pacer(slow[3])  # waiting for its slot, and this thread is not
    drain("telegram", "73")  # the same thread serves another chat meanwhile
    assert _sent(other) and not _sent(slow[3])
    wait_until(lambda: _sent(slow[3]), what="the paced row")
    texts = [c.params["text"] for c in fake_telegram.requests("sendMessage")]
    assert texts == ["satu", "dua", "tiga", "lain", "empat"]


def test_a_second_drain_of_the_chat_does_not_overtake_the_pacer(
    channels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_telegram, _ = channels
    ids = _slow_chat(monkeypatch, "74", *TEXTS[:4])
    drain("telegram", "74")
    assert _held_by_pacer(ids[3])
    (later,) = _queue(Channel.TELEGRAM, "74", "enam", deliver=False)
    drain("telegram", "74")  # finds the head claimed by the pacer: sends nothing
    assert _status(later).status == OutboundStatus.PENDING and _held_by_pacer(ids[3])
    # The pacer sends its row, then a fresh drain (on the worker) takes the chat's next one.
    wait_until(lambda: _sent(later), timeout=30, what="the row queued behind the pacer")
    assert fake_telegram.sent_texts(74) == [*TEXTS[:4], "enam"]


def test_stopping_hands_the_pacers_rows_back(
    fake_telegram: Any,
    fast_limits: None,
    broker: Any,
    committed_db: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dramatiq import Worker

    ids = _slow_chat(monkeypatch, "75", *TEXTS)
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        drain("telegram", "75")
        assert _held_by_pacer(ids[3]) and _held_by_pacer(ids[4])
    finally:
        worker.stop(timeout=10_000)  # dramatiq's shutdown (SIGTERM): the pacer hands back
    assert [_status(i).status for i in ids[3:]] == [OutboundStatus.PENDING] * 2
    assert not any(i in delivery._held for i in ids)  # noqa: SLF001
    assert fake_telegram.sent_texts(75) == list(TEXTS[:3])  # nothing sent twice or lost
    assert pacer.pending() == 0
    # A later worker in this process paces again.
    (more,) = _queue(Channel.TELEGRAM, "76", "lagi", deliver=False)
    drain("telegram", "76")
    assert _sent(more)
