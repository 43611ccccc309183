"""Sell-out rush on PostgreSQL: 1000 runners confirming for the last 25 slots, vs plain INSERTs.

Every confirmation runs as the chat flow runs it (registrations.submit + payments.assign_amount in a
savepoint, each runner in its own unit of work) from a pool of 30 threads, the engine's pool size.
The baseline is the same number of one-row INSERTs into a scratch table, one transaction each, from
the same pool in the same run. Run with `make bench` (or `python -m bench.rush` with DATABASE_URL
set); results go to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from sqlalchemy import select, text

from bench._report import ROOT, machine, median_ms, quantile_ms, write_section
from core import demo
from core.db import Base, get_engine, unit_of_work, utcnow
from core.errors import SoldOut
from core.models import Category
from core.payments import amounts
from core.registration import intake

RUNNERS, SLOTS, THREADS = 1000, 25, 30  # THREADS = pool_size 10 + max_overflow 20
CATEGORY = "21K"
SCRATCH = "bench_scratch"


def _prepare_database() -> None:
    """Refuse anything but a throwaway PostgreSQL database; migrate it and start from empty."""
    from alembic.config import Config

    from alembic import command
    from core.config import get_settings

    url = get_settings().database_url
    if not url.startswith("postgresql") or not url.rsplit("/", 1)[-1].endswith("_test"):
        raise SystemExit("bench needs a throwaway PostgreSQL database (*_test): run `make bench`")
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.attributes["url"] = url
    command.upgrade(config, "head")
    _reset()


def _reset() -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        conn.execute(text(f"DROP TABLE IF EXISTS {SCRATCH}"))
        conn.execute(
            text(
                f"CREATE TABLE {SCRATCH} (id bigserial PRIMARY KEY, chat_id text NOT NULL, "
                "created_at timestamptz NOT NULL DEFAULT now())"
            )
        )


def _seed(slots: int) -> int:
    """The demo event with ``slots`` places left in 21K; return its id."""
    with unit_of_work() as uow:
        event_id = demo.seed(uow.session, admin_password="bench-password-123").event_id
        category = uow.session.scalars(
            select(Category).where(Category.event_id == event_id, Category.code == CATEGORY)
        ).one()
        category.quota = category.slots_taken + slots
    return event_id


def _answers(n: int) -> dict[str, Any]:
    return {
        "category": CATEGORY,
        "full_name": f"Pelari Bench {n}",
        "gender": "F",
        "date_of_birth": "1990-08-17",
        "email": f"bench{n}@example.com",
        "phone": f"+62812{n:08d}",
        "jersey_size": "M",
        "emergency_name": "Budi Santoso",
        "emergency_phone": "+6281298765432",
        "blood_type": "O",
        "medical_notes": "",
    }


def _confirm(event_id: int, n: int) -> str:
    """One runner's confirmation, the way flows.completion.submit makes it."""
    now = utcnow()
    submission = intake.Submission(
        event_id=event_id,
        category_code=CATEGORY,
        answers=_answers(n),
        channel="whatsapp",
        chat_id=f"62812{n:08d}",
    )
    with unit_of_work() as uow:
        try:
            with uow.session.begin_nested():
                registration = intake.submit(uow.session, submission=submission, now=now)
                amounts.assign_amount(uow.session, registration=registration, now=now)
        except SoldOut:
            return "sold_out"
    return "registered"


def _insert(n: int) -> str:
    with unit_of_work() as uow:
        uow.session.execute(text(f"INSERT INTO {SCRATCH} (chat_id) VALUES (:c)"), {"c": str(n)})
    return "inserted"


def _pool(job: Callable[[int], str], count: int) -> dict[str, Any]:
    """Run job(0..count-1) from THREADS threads; return wall time, latencies and outcomes."""

    def timed(n: int) -> tuple[str, float]:
        began = time.perf_counter()
        outcome = job(n)
        return outcome, time.perf_counter() - began

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(timed, range(count)))
    wall = time.perf_counter() - began
    latencies = [seconds for _, seconds in results]
    outcomes: dict[str, int] = {}
    for outcome, _ in results:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return {
        "count": count,
        "wall": wall,
        "per_s": count / wall,
        "p50": median_ms(latencies),
        "p99": quantile_ms(latencies, 99),
        "outcomes": outcomes,
    }


def measure() -> dict[str, dict[str, Any]]:
    """Baseline INSERTs, the rush for the last slots, and a rush where every runner gets in."""
    _prepare_database()
    _pool(_insert, THREADS * 2)  # warm-up: open every pooled connection before timing
    baseline = _pool(_insert, RUNNERS)
    rush = _pool(partial(_confirm, _seed(SLOTS)), RUNNERS)
    if rush["outcomes"] != {"registered": SLOTS, "sold_out": RUNNERS - SLOTS}:
        raise RuntimeError(f"rush oversold or failed: {rush['outcomes']}")
    _reset()
    open_sale = _pool(partial(_confirm, _seed(RUNNERS)), RUNNERS)
    if open_sale["outcomes"] != {"registered": RUNNERS}:
        raise RuntimeError(f"open sale refused runners: {open_sale['outcomes']}")
    _reset()
    return {"baseline": baseline, "rush": rush, "open": open_sale}


def _row(label: str, r: dict[str, Any]) -> str:
    return (
        f"| {label} | {r['count']} | {r['wall']:.2f} | {r['per_s']:.0f} | {r['p50']:.1f} | "
        f"{r['p99']:.1f} |"
    )


def _write(results: dict[str, dict[str, Any]]) -> None:
    base, rush, open_sale = results["baseline"], results["rush"], results["open"]
    write_section(
        "rush",
        [
            "## Sell-out rush: 1000 runners for the last 25 slots (bench/rush.py)",
            "",
            f"Machine: {machine()}. PostgreSQL on loopback (the `make bench` throwaway instance); "
            f"{THREADS} threads, each confirmation in its own unit of work, as the chat worker "
            "does.",
            "",
            "| workload | operations | wall s | per second | p50 ms | p99 ms |",
            "|---|---|---|---|---|---|",
            _row("baseline: one-row INSERT, one transaction each", base),
            _row(f"rush: {RUNNERS} confirmations for the last {SLOTS} slots", rush),
            _row(f"open sale: {RUNNERS} confirmations, all get a slot", open_sale),
            "",
            f"Rush outcome: {rush['outcomes'].get('registered', 0)} registered, "
            f"{rush['outcomes'].get('sold_out', 0)} told sold out (checked on every run).",
            f"Ratio rush / baseline throughput: **{rush['per_s'] / base['per_s']:.2f}**; "
            f"p50 latency {rush['p50'] / base['p50']:.1f}x the INSERT's. "
            f"Open sale / baseline throughput: **{open_sale['per_s'] / base['per_s']:.2f}**.",
            "Every confirmation queues on a per-category advisory lock (PostgreSQL grants "
            "`pg_advisory_xact_lock` waiters in arrival order), then takes the category row, jersey "
            "and sequence locks uncontended and, winners only, the per-event amount lock; so "
            "confirmations of one category run one at a time by design and the rush is mostly cheap "
            "refusals under that lock.",
            f"Open-sale tail: p99 {open_sale['p99']:.0f} ms against the unit of work's 3 s "
            "`lock_timeout`. Before the queue lock (waiters on the category row lock, which "
            "PostgreSQL grants in no particular order) the same bench measured open sale 54/s, "
            "p50 182 ms, p99 3128 ms (2026-11-25, load 4.2), and some confirmations hit the 3 s "
            "timeout and were retried by Dramatiq. With 30 runners queued for one lock the mean "
            "wait is about 30 critical sections either way (Little's law): FIFO raises the median "
            "and cuts the tail; shortening the critical section (participant inserted before the "
            "lock, one UPDATE ... RETURNING for the number, one indexed probe for the unique code) "
            "lowers both.",
        ],
    )


def main() -> None:
    results = measure()
    _write(results)
    for name, r in results.items():
        print(
            f"{name}: {r['count']} in {r['wall']:.2f} s = {r['per_s']:.0f}/s "
            f"p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms {r['outcomes']}"
        )


if __name__ == "__main__":
    main()
