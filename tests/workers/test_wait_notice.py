"""Honest waiting: a chat held back by pacing is told about how long, once, from the queue."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.config import get_settings
from core.db import unit_of_work
from core.enums import Channel
from core.messages import Reply
from core.messaging import outbox
from tests.channels.helpers import wait_until
from workers.delivery import deliver_after_commit


def test_runners_behind_a_long_ticket_queue_are_told_once(
    channels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FONNTE_MAX_PER_SECOND", "0.05")  # one WhatsApp message every 20 s
    get_settings.cache_clear()
    _telegram, fonnte = channels
    runners = [f"62813{uuid.uuid4().int % 10**8:08d}" for _ in range(10)]
    with unit_of_work() as uow:
        rows = [
            outbox.write(
                uow.session,
                channel=Channel.WHATSAPP.value,
                recipient=runner,
                reply=Reply(text=f"E-tiket {n}", kind="ticket"),
                idempotency_key=f"test:ticket:{runner}",
                priority=outbox.PRIORITY_NOTIFICATION,
            )  # fmt: skip
            for n, runner in enumerate(runners)
        ]
        deliver_after_commit(uow, rows)

    def told(runner: str) -> list[str]:
        return [m for m in fonnte.sent_texts(runner) if "menit lagi" in m]

    wait_until(lambda: all(told(r) for r in runners[6:]), timeout=30, what="wait notices")
    assert told(runners[0]) == []  # first in line: no wait to announce
    assert all(len(told(r)) <= 1 for r in runners)  # once per wait, not per retry
    last = told(runners[-1])[0]
    assert "e-tiket Anda dikirim sekitar" in last and "3 menit" in last  # 10 ahead / 3 per min
    assert all(not fonnte.sent_texts(r)[1:] for r in runners[6:])  # the tickets still wait
