"""2,000 WhatsApp runners waiting for a reply: the Cloud API's pacing against one Fonnte device's.

Both channels run side by side in one dramatiq worker (Redis broker, PostgreSQL outbox, the shared
Redis rate limiter), each against its fake on loopback enforcing its provider's pace: the fake
Graph API refuses more than 80 messages/s per number (130429), the fake Fonnte device more than
1 message/s (FONNTE_MAX_PER_SECOND's default). Each runner has just written (the 24-hour window is
open) and is owed one reply: the outbox rows are written at once, as the engine writes them in a
rush, and the clock runs until the fake has accepted the last one.

Run with `python -m bench.whatsapp_rush` (DATABASE_URL and REDIS_URL of throwaway services set).
BENCH_FONNTE_RUNNERS samples the Fonnte side (default: all 2,000, about 34 minutes).
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench._report import machine, quantile_ms, write_section
from bench._rush_check import empty_database, require_services

RUNNERS = int(os.environ.get("BENCH_RUNNERS", 2000))
CLOUD_PACE = 80.0
FONNTE_PACE = 1.0
THREADS = 8


def _env(graph_url: str, fonnte_url: str) -> None:
    os.environ.update(
        {
            "WHATSAPP_API_BASE": graph_url,
            "FONNTE_API_BASE": fonnte_url,
            "WHATSAPP_MAX_PER_SECOND": str(CLOUD_PACE),
            "FONNTE_MAX_PER_SECOND": str(FONNTE_PACE),
            "WHATSAPP_TOKEN": "bench-cloud-token",
            "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
            "FONNTE_TOKEN": "bench-fonnte-token",
        }
    )
    from core.config import get_settings

    get_settings.cache_clear()


def _runners_wrote(chat_ids: list[str]) -> None:
    """Every Cloud API runner has just written: their window is open."""
    from core.db import unit_of_work, utcnow
    from core.enums import Channel
    from core.messages import InboundMessage
    from core.messaging import inbox

    with unit_of_work() as uow:
        for chat_id in chat_ids:
            message = InboundMessage(
                channel=Channel.WHATSAPP_CLOUD,
                external_id=f"wamid.bench.{chat_id}",
                chat_id=chat_id,
            )
            row = inbox.record_inbound(uow.session, message)
            if row is not None:
                row.processed_at = utcnow()


def _queue(channel: str, chat_ids: list[str]) -> None:
    """One reply per runner, written and handed to the dispatcher in one go."""
    from core.db import unit_of_work
    from core.messages import Reply
    from core.messaging import outbox
    from workers.delivery import deliver_after_commit

    with unit_of_work() as uow:
        rows = [
            outbox.write(
                uow.session,
                channel=channel,
                recipient=chat_id,
                reply=Reply("Terima kasih! Pertanyaan berikutnya: *nama lengkap* peserta?"),
                idempotency_key=f"bench:{channel}:{chat_id}",
            )
            for chat_id in chat_ids
        ]
        deliver_after_commit(uow, rows)


def _stats(arrivals: list[float], started: float, expected: int) -> dict[str, Any]:
    waits = sorted(at - started for at in arrivals)
    return {
        "runners": expected,
        "delivered": len(waits),
        "wall": waits[-1] if waits else float("nan"),
        "p50": statistics.median(waits) if waits else float("nan"),
        "p99_ms": quantile_ms(waits, 99) if len(waits) > 1 else float("nan"),
        "per_s": len(waits) / waits[-1] if waits else float("nan"),
    }


def measure() -> dict[str, Any]:
    from dramatiq import Worker

    from tests.fakes.fonnte_api import FakeFonnte
    from tests.fakes.graph_api import FakeGraph
    from tests.fakes.server import serve

    fonnte_runners = int(os.environ.get("BENCH_FONNTE_RUNNERS", RUNNERS))
    graph = FakeGraph("bench-cloud-token", max_per_second=CLOUD_PACE)
    fonnte = FakeFonnte("bench-fonnte-token", max_per_second=FONNTE_PACE)
    with serve(graph.app) as graph_url, serve(fonnte.app) as fonnte_url:
        graph.base_url, fonnte.base_url = graph_url, fonnte_url
        _env(graph_url, fonnte_url)
        require_services()
        empty_database()
        import workers

        workers.broker.flush_all()
        cloud_ids = [f"62813{n:08d}" for n in range(RUNNERS)]
        fonnte_ids = [f"62812{n:08d}" for n in range(fonnte_runners)]
        _runners_wrote(cloud_ids)
        worker = Worker(workers.broker, worker_threads=THREADS)
        worker.start()
        try:
            started = time.monotonic()
            _queue("whatsapp_cloud", cloud_ids)
            cloud_committed = time.monotonic()
            _queue("whatsapp", fonnte_ids)
            fonnte_committed = time.monotonic()
            queued = fonnte_committed - started
            _wait(lambda: len(graph.sent) >= RUNNERS, timeout=600)
            _wait(lambda: len(fonnte.requests) >= fonnte_runners, timeout=fonnte_runners * 2 + 120)
        finally:
            worker.stop(timeout=10_000)
        # Each channel's clock starts when its rows are committed (what the dispatcher can send).
        cloud = _stats([s.at for s in graph.sent], cloud_committed, RUNNERS)
        device = _stats([s.at for s in fonnte.requests], fonnte_committed, fonnte_runners)
        cloud["refused"], device["refused"] = graph.rejected, fonnte.rejected
        empty_database(migrate=False)
    return {"cloud": cloud, "fonnte": device, "queued_s": queued}


def _wait(predicate: Any, *, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("bench: deliveries did not finish in time")
        time.sleep(0.2)


def _row(label: str, r: dict[str, Any]) -> str:
    return (
        f"| {label} | {r['runners']} | {r['wall']:.1f} | {r['wall'] / 60:.1f} | "
        f"{r['per_s']:.1f} | {r['p50']:.1f} | {r['p99_ms'] / 1000:.1f} | {r['refused']} |"
    )


def _write(results: dict[str, Any]) -> None:
    cloud, device = results["cloud"], results["fonnte"]
    per_2000 = RUNNERS / device["per_s"] if device["per_s"] else float("nan")
    lines = [
        "## WhatsApp rush: 2,000 runners, Cloud API pacing vs one Fonnte device "
        "(bench/whatsapp_rush.py)",
        "",
        f"Machine: {machine()}. PostgreSQL + Redis on loopback; one dramatiq worker process with "
        f"{THREADS} threads drains both channels at once; each fake enforces its provider's pace "
        f"(Graph API {CLOUD_PACE:g} messages/s per number, Fonnte device {FONNTE_PACE:g}/s) and "
        "refuses anything faster. Every runner has just written and is owed one reply; each "
        "channel's rows are written in one transaction (both together: "
        f"{results['queued_s']:.1f} s) and its clock runs from that commit until the provider "
        "accepted the last one (the Cloud API's sends overlap the writing of Fonnte's rows).",
        "",
        "| channel | runners | last reply s | min | replies/s | median wait s | p99 wait s | "
        "refused by the fake |",
        "|---|---|---|---|---|---|---|---|",
        _row(f"WhatsApp Cloud API ({CLOUD_PACE:g}/s)", cloud),
        _row(f"Fonnte, one device ({FONNTE_PACE:g}/s)", device),
        "",
    ]
    if device["runners"] < RUNNERS:
        lines.append(
            f"The Fonnte side was sampled ({device['runners']} runners, BENCH_FONNTE_RUNNERS): at "
            f"its measured {device['per_s']:.2f} replies/s, 2,000 runners take about "
            f"{per_2000 / 60:.0f} minutes."
        )
    lines.append(
        f"Ratio: the Cloud API answers 2,000 runners **{cloud['per_s'] / device['per_s']:.0f}x** "
        "faster. With a registration of about 15 questions, a Fonnte runner in a 2,000-person rush "
        "waits minutes between questions; on the Cloud API the wait is the worker's, not the "
        "provider's. The pair limit (about one message every 6 s to one runner, bursts allowed) "
        "does not bind here: each runner gets one reply."
    )
    write_section("whatsapp_rush", lines)


def main() -> None:
    results = measure()
    _write(results)
    for name in ("cloud", "fonnte"):
        r = results[name]
        print(
            f"{name}: {r['delivered']}/{r['runners']} in {r['wall']:.1f} s = {r['per_s']:.1f}/s, "
            f"median wait {r['p50']:.1f} s, refused {r['refused']}"
        )


if __name__ == "__main__":
    main()
