"""Per-chat order with the production topology: two API processes and two worker processes.

Fifty updates of one Telegram chat are posted concurrently, alternating between two `funrun serve`
processes, while two `funrun worker` processes (each with several Dramatiq processes and threads)
consume them over Redis. Each update is stored and processed once, in arrival order, and the
replies reach the fake Bot API in the order they were written.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from core.enums import OutboundStatus
from core.models import InboundUpdate, OutboundMessage
from tests.channels.helpers import TG_CHAT, count, inbound_rows, outbound_rows, tg_headers, tg_text
from tests.e2e.test_embedded_sqlite import free_port, running, wait_healthy

UPDATES = 50


def _settled() -> bool:
    return (
        count(InboundUpdate) == UPDATES
        and count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0
        and count(OutboundMessage) > 0
        and count(OutboundMessage, OutboundMessage.status != OutboundStatus.SENT) == 0
    )


def _post_all(bases: list[str]) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(10)

    def post(batch: range) -> None:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            for n in batch:
                response = client.post(
                    f"{bases[n % len(bases)]}/webhooks/telegram",
                    json=tg_text(700000 + n, f"pesan {n}"),
                    headers=tg_headers(),
                )
                statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(range(i, UPDATES, 10),)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_one_chat_in_order_across_api_and_worker_processes(
    demo_event: int, fake_telegram: Any, redis_client: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    for name in ("TELEGRAM_CHAT_MAX_PER_SECOND", "TELEGRAM_MAX_PER_SECOND", "FLOOD_MAX_MESSAGES"):
        monkeypatch.setenv(name, "1000")
    env = {**os.environ, "MEDIA_DIR": str(tmp_path / "media")}
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    worker_args = ["worker", "--processes", "2", "--threads", "4"]
    with (
        running(["serve", "--port", str(ports[0])], env, tmp_path / "api1.log") as api1,
        running(["serve", "--port", str(ports[1])], env, tmp_path / "api2.log") as api2,
        running(worker_args, env, tmp_path / "worker1.log"),
        running(worker_args, env, tmp_path / "worker2.log"),
    ):
        wait_healthy(api1, bases[0], tmp_path / "api1.log")
        wait_healthy(api2, bases[1], tmp_path / "api2.log")
        assert _post_all(bases) == [200] * UPDATES
        deadline = time.monotonic() + 90
        while not _settled():
            assert time.monotonic() < deadline, (tmp_path / "worker1.log").read_text()[-3000:]
            time.sleep(0.2)

    rows = inbound_rows()
    assert all(r.attempts == 1 and r.error is None for r in rows)
    processed = [r.processed_at for r in rows]
    assert processed == sorted(processed), "a chat's updates were processed out of arrival order"
    replies = outbound_rows()
    sources = [int(r.idempotency_key.split(":")[1]) for r in replies]
    assert sources == sorted(sources)
    assert set(sources) == {r.id for r in rows}, "every update got its reply, once"
    sent_ids = [int(r.provider_message_id) for r in replies]
    assert sent_ids == sorted(sent_ids), "replies reached the chat out of written order"
    assert len(fake_telegram.sent_texts(TG_CHAT)) == len(replies)
