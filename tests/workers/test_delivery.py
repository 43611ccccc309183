"""The outbox dispatcher against the fake providers: order, 429, 403, 5xx, Fonnte reasons, crashes."""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.enums import Channel, OutboundStatus
from core.messages import Choice, Reply
from core.messaging import outbox
from core.models import AuditLog, OutboundMessage
from tests.channels.helpers import count, outbound_rows, wait_until
from workers import delivery
from workers.delivery import MAX_ATTEMPTS, deliver_after_commit, deliver_chat, drain
from workers.sweeper import sweep_once

WA = "6281234567890"


def _queue(
    channel: Channel, recipient: str, *texts: str, deliver: bool = True, **kw: Any
) -> list[int]:
    with unit_of_work() as uow:
        rows = [
            outbox.write(
                uow.session,
                channel=channel.value,
                recipient=recipient,
                reply=Reply(text=text, **kw),
                idempotency_key=f"test:{recipient}:{text}",
            )
            for text in texts
        ]
        if deliver:
            deliver_after_commit(uow, rows)
        return [r.id for r in rows]


def _status(row_id: int) -> OutboundMessage:
    (row,) = outbound_rows(OutboundMessage.id == row_id)
    return row


def _sent(row_id: int) -> bool:
    return _status(row_id).status == OutboundStatus.SENT


def test_messages_to_one_chat_arrive_in_written_order(channels: Any) -> None:
    fake_telegram, fake_fonnte = channels
    texts = [f"pesan {n}" for n in range(8)]
    ids = _queue(Channel.TELEGRAM, "42", *texts) + _queue(Channel.WHATSAPP, WA, *texts)
    wait_until(lambda: all(_sent(i) for i in ids))
    assert fake_telegram.sent_texts(42) == texts
    assert fake_fonnte.sent_texts(WA) == texts
    assert all(_status(i).provider_message_id for i in ids)


def test_429_retry_after_is_honoured(channels: Any) -> None:
    fake_telegram, _ = channels
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    first, second = _queue(Channel.TELEGRAM, "42", "satu", "dua")
    wait_until(lambda: _sent(first) and _sent(second))
    calls = fake_telegram.requests("sendMessage")
    assert [c.params["text"] for c in calls] == ["satu", "satu", "dua"]
    assert calls[1].at - calls[0].at >= 1.0  # not before Telegram's retry_after
    assert _status(first).attempts == 1  # a 429 is pacing, not a failed attempt (MAX_ATTEMPTS)


def test_403_blocked_is_permanent_and_not_retried(channels: Any) -> None:
    fake_telegram, _ = channels
    fake_telegram.block(43)
    blocked = _queue(Channel.TELEGRAM, "43", "a", "b")
    other = _queue(Channel.TELEGRAM, "44", "c")
    wait_until(lambda: _sent(other[0]) and all(_status(i).status == "failed" for i in blocked))
    assert "blocked" in (_status(blocked[0]).error or "")
    assert len(fake_telegram.sent_texts(43)) == 2  # each row tried once
    assert sweep_once(now=utcnow() + timedelta(minutes=10)).recipients == 0
    assert count(AuditLog, AuditLog.action == "outbound.failed") == 2


def test_5xx_is_retried_with_backoff(channels: Any) -> None:
    fake_telegram, _ = channels
    fake_telegram.fail_next("sendMessage", status=502)
    (row_id,) = _queue(Channel.TELEGRAM, "45", "halo")
    wait_until(lambda: _status(row_id).next_attempt_at is not None or _sent(row_id))
    wait_until(lambda: _sent(row_id))
    assert _status(row_id).attempts == 2
    assert len(fake_telegram.sent_texts(45)) == 2


def test_fonnte_reasons_are_recorded(channels: Any) -> None:
    _, fake_fonnte = channels
    fake_fonnte.fail_next("target invalid")
    (bad,) = _queue(Channel.WHATSAPP, "628000", "x")
    wait_until(lambda: _status(bad).status == "failed")
    assert "target invalid" in (_status(bad).error or "")
    fake_fonnte.fail_next("insufficient quota")
    (retried,) = _queue(Channel.WHATSAPP, WA, "y")
    wait_until(lambda: "insufficient quota" in (_status(retried).error or "") or _sent(retried))
    wait_until(lambda: _sent(retried))
    assert len(fake_fonnte.sent(WA)) == 2


def test_choices_and_photos_reach_the_providers(channels: Any, tmp_path: Any) -> None:
    fake_telegram, fake_fonnte = channels
    from core.config import get_settings

    media = get_settings().media_dir
    (media / "tickets").mkdir(parents=True, exist_ok=True)
    (media / "tickets" / "t.png").write_bytes(b"png")
    choice = (Choice("5K", "5k"), Choice("10K", "10k"))
    ids = _queue(Channel.TELEGRAM, "46", "Pilih", choices=choice, inline=True)
    ids += _queue(Channel.WHATSAPP, WA, "Tiket", image_path="tickets/t.png")
    wait_until(lambda: all(_sent(i) for i in ids))
    (call,) = fake_telegram.requests("sendMessage")
    assert call.params["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "10k"
    assert fake_fonnte.sent(WA)[0].file == b"png"


def test_simulator_rows_are_marked_sent_at_commit(committed_db: None) -> None:
    (row_id,) = _queue(Channel.SIMULATOR, "sim-1", "halo")
    row = _status(row_id)
    assert row.status == OutboundStatus.SENT and row.provider_message_id == f"sim:{row_id}"


KILLABLE = """
import sys
from workers.delivery import drain
drain(sys.argv[1], sys.argv[2])
"""


def test_worker_killed_after_provider_accepted_does_not_send_twice(
    channels: Any, broker: Any, worker: Any
) -> None:
    fake_telegram, _ = channels
    fake_telegram.hold("sendMessage", after=1)  # the first send passes, the second hangs
    first, second = _queue(Channel.TELEGRAM, "47", "pertama", "kedua", deliver=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, "telegram", "47"], env=os.environ.copy()
    )
    try:
        wait_until(lambda: len(fake_telegram.requests("sendMessage")) == 2, timeout=30)
        assert _sent(first)  # accepted and its provider id committed before the next claim
        provider_id = _status(first).provider_message_id
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    fake_telegram.release("sendMessage")
    # Dramatiq redelivers the unacked job: the accepted message is not sent again. The second
    # message's fate is unknown (the worker died mid-request): nobody renews the dead claim, so
    # the drain that found it busy looks again when its lease ends and sends it again.
    started = time.monotonic()
    deliver_chat.send("telegram", "47")
    wait_until(lambda: _sent(second), timeout=30)
    assert time.monotonic() - started < outbox.CLAIM_LEASE.total_seconds() + 5
    texts = fake_telegram.sent_texts(47)
    assert texts.count("pertama") == 1
    assert texts.count("kedua") == 2
    assert _status(first).provider_message_id == provider_id


class HangUpServer:
    """A TCP server that accepts each connection, reads a little and closes it without answering."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)

    def close(self) -> None:
        self.sock.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["connection closed", "connection refused"])
def unreachable_telegram(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """TELEGRAM_API_BASE pointing at a server that hangs up, or at a port nobody listens on."""
    server = HangUpServer() if request.param == "connection closed" else None
    port = server.port if server else _closed_port()
    monkeypatch.setenv("TELEGRAM_API_BASE", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    yield request.param
    if server:
        server.close()
    get_settings.cache_clear()


def _fail_once(chat: str, row_id: int) -> float:
    """One drain that fails on the network; return the backoff it scheduled, in seconds."""
    drain("telegram", chat)
    # Timed from the drain's end, not its start: the failing attempt (slow on a loaded machine)
    # comes before the backoff is scheduled, only the commit after it.
    before = utcnow()
    row = _status(row_id)
    assert row.status == OutboundStatus.PENDING, row.error
    assert row.next_attempt_at is not None
    # Due now, instead of waiting for the backoff (the test checks it, not the clock).
    with unit_of_work() as uow:
        uow.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.id == row_id)
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )
    return (row.next_attempt_at - before).total_seconds()


def test_network_errors_are_retried_with_growing_backoff(
    fake_telegram: Any,  # first, so that unreachable_telegram's base URL wins
    unreachable_telegram: str,
    fast_limits: None,
    broker: Any,
    committed_db: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (row_id,) = _queue(Channel.TELEGRAM, "48", "jaringan putus", deliver=False)
    delays = [_fail_once("48", row_id) for _ in range(4)]
    assert all(later > earlier for earlier, later in itertools.pairwise(delays)), delays
    assert delays[0] >= 1.5 and delays[-1] >= 8 * delays[0] * 0.9, delays
    row = _status(row_id)
    assert row.attempts == 4
    # A hang-up surfaces as RemoteProtocolError or ReadError depending on timing.
    closed = unreachable_telegram == "connection closed"
    expected = ("RemoteProtocolError", "ReadError") if closed else ("Connect",)
    assert any(name in (row.error or "") for name in expected), row.error
    # The network is back: the same row is sent once, by the next attempt.
    monkeypatch.setenv("TELEGRAM_API_BASE", fake_telegram.base_url)
    get_settings.cache_clear()
    drain("telegram", "48")
    assert _sent(row_id)
    assert _status(row_id).attempts == 5
    assert fake_telegram.sent_texts(48) == ["jaringan putus"]


def test_network_errors_give_up_after_max_attempts(
    unreachable_telegram: str, fast_limits: None, broker: Any, committed_db: None
) -> None:
    (row_id,) = _queue(Channel.TELEGRAM, "49", "tidak sampai", deliver=False)
    for _ in range(MAX_ATTEMPTS - 1):
        _fail_once("49", row_id)
    drain("telegram", "49")
    row = _status(row_id)
    assert row.status == OutboundStatus.FAILED and row.attempts == MAX_ATTEMPTS
    assert count(AuditLog, AuditLog.action == "outbound.failed") == 1


def test_a_429_at_the_bots_ceiling_pauses_the_whole_bot_for_retry_after(
    channels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_telegram, _ = channels
    monkeypatch.setenv("TELEGRAM_MAX_PER_SECOND", "1")  # one send empties the bot's ceiling
    get_settings.cache_clear()
    factor = delivery._pace.factor("tg")  # noqa: SLF001
    fake_telegram.fail_next("sendMessage", status=429, retry_after=3)
    (limited,) = _queue(Channel.TELEGRAM, "61", "pertama")
    wait_until(lambda: _status(limited).next_attempt_at is not None)  # paused, retry scheduled
    refused_at = fake_telegram.requests("sendMessage")[0].at
    (other,) = _queue(Channel.TELEGRAM, "62", "lain")  # another chat, same bot
    wait_until(lambda: _sent(limited) and _sent(other))
    calls = {c.params["text"]: c.at for c in fake_telegram.requests("sendMessage")[1:]}
    # The bot had no room left: Telegram's limit was the bot's, so the other chat waited as well
    # (beyond the 1 s the ceiling alone would have asked) and the bot's pace was halved.
    assert calls["lain"] - refused_at >= 2.5
    assert delivery._pace.factor("tg") < factor  # noqa: SLF001
    # Nothing lost or doubled: after the refused request, each reply went out once.
    assert sorted(calls) == ["lain", "pertama"] and len(fake_telegram.requests("sendMessage")) == 3


def test_a_429_with_room_at_the_bots_ceiling_pauses_only_that_chat(channels: Any) -> None:
    fake_telegram, _ = channels
    fake_telegram.fail_next("sendMessage", status=429, retry_after=3)
    (limited,) = _queue(Channel.TELEGRAM, "63", "pertama")
    wait_until(lambda: _status(limited).next_attempt_at is not None)
    refused_at = fake_telegram.requests("sendMessage")[0].at
    factor = delivery._pace.factor("tg")  # noqa: SLF001
    (other,) = _queue(Channel.TELEGRAM, "64", "lain")  # another chat, same bot: not held
    wait_until(lambda: _sent(other))
    # The same chat's next reply (queued behind the refused one) waits for the chat's pause.
    (later,) = _queue(Channel.TELEGRAM, "63", "kedua")
    wait_until(lambda: _sent(limited) and _sent(later))
    calls = {c.params["text"]: c.at for c in fake_telegram.requests("sendMessage")[1:]}
    assert calls["lain"] < calls["pertama"]  # not held for the refused chat's 3 s retry_after
    assert calls["pertama"] - refused_at >= 2.5 and calls["kedua"] > calls["pertama"]
    assert delivery._pace.factor("tg") >= factor  # noqa: SLF001  (not halved by a chat's 429)
    # Nothing lost or doubled: after the refused request, each reply went out once, in order.
    accepted = [c.params["text"] for c in fake_telegram.requests("sendMessage")[1:]]
    assert sorted(accepted) == ["kedua", "lain", "pertama"]
    assert accepted.index("pertama") < accepted.index("kedua")


def test_a_short_pacing_wait_goes_to_the_pacer_not_the_queue(
    fake_telegram: Any, fast_limits: None, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _four_at_chat_pace(monkeypatch, "65", "2")  # a burst of 3, then every 0.5 s
    drain("telegram", "65")  # no worker runs: a requeued row would still be pending here
    wait_until(lambda: all(_sent(i) for i in ids), what="the pacer's send")
    calls = fake_telegram.requests("sendMessage")
    assert [c.params["text"] for c in calls] == ["satu", "dua", "tiga", "empat"]
    assert calls[3].at - calls[2].at >= 0.3  # the fourth waited for the chat's bucket


def test_a_long_pacing_wait_is_handed_back_to_the_queue(
    fake_telegram: Any, fast_limits: None, committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PACE_HOLD_SECONDS", "5")
    ids = _four_at_chat_pace(monkeypatch, "66", "0.05")  # a burst of 3, then every 20 s
    started = time.monotonic()
    drain("telegram", "66")
    assert time.monotonic() - started < 10  # it did not sleep for the 20 s
    assert [_sent(i) for i in ids] == [True, True, True, False]
    assert _status(ids[3]).status == OutboundStatus.PENDING  # handed back, not lost
    assert fake_telegram.sent_texts(66) == ["satu", "dua", "tiga"]


def _four_at_chat_pace(monkeypatch: pytest.MonkeyPatch, chat: str, rate: str) -> list[int]:
    """Four replies queued for ``chat`` (not delivered) with Telegram's per-chat pace at ``rate``."""
    monkeypatch.setenv("TELEGRAM_CHAT_MAX_PER_SECOND", rate)
    get_settings.cache_clear()
    return _queue(Channel.TELEGRAM, chat, "satu", "dua", "tiga", "empat", deliver=False)


def _transactions(fn: Any) -> int:
    """How many transactions ``fn`` ran on the process's engine (a SQLAlchemy event, no patching)."""
    from sqlalchemy import event

    from core.db import get_engine

    begun: list[int] = []

    def on_begin(_conn: Any) -> None:
        begun.append(1)

    event.listen(get_engine(), "begin", on_begin)
    try:
        fn()
    finally:
        event.remove(get_engine(), "begin", on_begin)
    return len(begun)


def test_one_reply_is_claimed_and_marked_sent_in_two_transactions(
    fake_telegram: Any, fast_limits: None
) -> None:
    [row_id] = _queue(Channel.TELEGRAM, "61", "satu", deliver=False)
    # Claim (with the recipient's batch) and mark sent (asking whether more was queued): no
    # third, empty claim.
    assert _transactions(lambda: drain("telegram", "61")) == 2
    assert _sent(row_id) and fake_telegram.sent_texts(61) == ["satu"]


def test_a_row_queued_while_the_batch_is_sent_goes_out_in_the_same_drain(channels: Any) -> None:
    fake_telegram, _ = channels
    fake_telegram.hold("sendMessage")
    [first] = _queue(Channel.TELEGRAM, "62", "pertama", deliver=False)
    sender = threading.Thread(target=drain, args=("telegram", "62"), daemon=True)
    sender.start()
    try:
        wait_until(lambda: fake_telegram.requests("sendMessage"), what="the first send")
        [second] = _queue(Channel.TELEGRAM, "62", "kedua", deliver=False)  # nobody enqueues it
    finally:
        fake_telegram.release("sendMessage")
    sender.join(timeout=30)
    assert _sent(first) and _sent(second)
    assert fake_telegram.sent_texts(62) == ["pertama", "kedua"]
