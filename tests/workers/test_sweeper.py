"""The sweeper: rows committed while Redis was down (or left by a crash) are picked up again."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from core.db import unit_of_work, utcnow
from core.enums import Channel, OutboundStatus
from core.messages import Reply
from core.messaging import outbox
from core.models import InboundUpdate, OutboundMessage
from tests.channels.helpers import count, fonnte_path, inbound_rows, tg_headers, tg_text, wait_until
from workers.jobs import PERIODIC
from workers.sweeper import STALE_AFTER, sweep, sweep_once


def _redis(*args: str) -> None:
    subprocess.run(["redis-cli", "-p", os.environ["TEST_REDIS_PORT"], *args], check=False)


def _start_redis() -> None:
    """The same command line as scripts/services.sh."""
    port, folder = os.environ["TEST_REDIS_PORT"], os.environ["TEST_SERVICES_DIR"]
    subprocess.run(
        [
            "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly",
            "no", "--daemonize", "yes", "--pidfile", f"{folder}/redis.pid", "--logfile",
            f"{folder}/redis.log", "--dir", folder,
        ],
        check=True,
    )  # fmt: skip
    wait_until(
        lambda: (
            subprocess.run(["redis-cli", "-p", port, "ping"], capture_output=True).stdout.strip()
            == b"PONG"
        )
    )


def test_sweep_is_registered_as_a_periodic_job() -> None:
    assert PERIODIC["sweep"] == (sweep, 30)


def test_redis_down_while_updates_arrive_loses_nothing(client: TestClient, channels: Any) -> None:
    fake_telegram, fake_fonnte = channels
    _redis("shutdown", "nosave")
    try:
        for n in range(5):
            response = client.post(
                "/webhooks/telegram", json=tg_text(900000 + n, "/start", chat_id=1000 + n),
                headers=tg_headers(),
            )  # fmt: skip
            assert response.status_code == 200  # stored and acknowledged despite the broker
        form = {"sender": "6281234567890", "message": "daftar", "inboxid": "4242"}
        assert client.post(fonnte_path(), data=form).status_code == 200
    finally:
        _start_redis()
    assert count(InboundUpdate) == 6
    assert count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 6
    # Too young for the sweeper yet; a sweep a minute later finds every conversation.
    assert sweep_once().conversations == 0
    assert sweep_once(now=utcnow() + STALE_AFTER + timedelta(seconds=1)).conversations == 6
    wait_until(lambda: count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0, timeout=40)
    wait_until(lambda: all(fake_telegram.sent_texts(1000 + n) for n in range(5)), timeout=40)
    wait_until(lambda: fake_fonnte.sent("6281234567890"), timeout=40)
    assert all(r.attempts == 1 for r in inbound_rows())


def test_unsent_outbound_rows_are_redelivered(channels: Any) -> None:
    fake_telegram, _ = channels
    with unit_of_work() as uow:  # committed, but the enqueue never happened (crash, Redis down)
        row = outbox.write(
            uow.session, channel=Channel.TELEGRAM.value, recipient="77",
            reply=Reply(text="tertinggal"), idempotency_key="lost:1",
        )  # fmt: skip
    assert sweep_once(now=utcnow() + timedelta(seconds=61)).recipients == 1
    wait_until(lambda: fake_telegram.sent_texts(77) == ["tertinggal"])
    wait_until(
        lambda: (
            count(
                OutboundMessage,
                OutboundMessage.id == row.id,
                OutboundMessage.status == OutboundStatus.SENT,
            )
            == 1
        )
    )
    assert sweep_once(now=utcnow() + timedelta(minutes=5)).recipients == 0
