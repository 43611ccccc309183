"""The confirm-and-claim transaction vs the same SQL replayed by pgbench, in one run.

One confirmation (bench.confirm_rush._confirm: registrations.submit + payments.assign_amount in a
savepoint, as the chat flow runs them) is recorded statement by statement through SQLAlchemy's
cursor events with its parameters inlined. pgbench then replays exactly that SQL, values that
must be unique per registration replaced by pgbench variables, against the same database with the
same number of clients, right after the Python path ran the same number of confirmations (slots
never run out in either, so every transaction is a full claim). The ratio is our path's
throughput over pgbench's. `python -m bench.confirm_pgbench` with a throwaway *_test DATABASE_URL.

``--compare DIR`` (e.g. a `git archive` export of the commit before a change) runs the same bench
from DIR's code and from this tree alternately, ``--rounds`` times each, in subprocesses against the
same database, and prints both results of every round side by side.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench import confirm_rush
from bench._report import ROOT, machine
from core.config import get_settings
from core.db import get_engine

CLIENTS, CONFIRMATIONS, PGBENCH_SECONDS = 8, 400, 10


def record(event_id: int, n: int) -> list[str]:
    """The SQL one confirmation runs, parameters inlined."""
    import psycopg

    seen: list[str] = []

    def on_execute(_conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        sql = psycopg.ClientCursor(cursor.connection).mogrify(statement, params)
        seen.append(" ".join(sql.split()))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        assert confirm_rush._confirm(event_id, n) == "registered"  # noqa: SLF001
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
    return seen


def script(statements: list[str], n: int) -> str:
    """The recorded SQL as one pgbench transaction; per-registration values follow :k."""
    subs = [(f"bench{n}@example.com", "bench:k@example.com"), (f"62812{n:08d}", "62:k"),
            (f"Pelari Bench {n}", "Pelari Bench :k")]  # fmt: skip
    body = []
    for sql in statements:
        for old, new in subs:
            sql = sql.replace(old, new)
        sql = re.sub(r"'JFR-21K-\d+'", "'JFR-21K-' || :k", sql)
        body.append(sql.rstrip(";") + ";")
    return "\\set k random(100000000, 999999999)\nBEGIN;\n" + "\n".join(body) + "\nCOMMIT;\n"


def python_path(event_id: int, start: int, count: int) -> float:
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        outcomes = list(
            pool.map(lambda n: confirm_rush._confirm(event_id, n), range(start, start + count))
        )  # noqa: SLF001
    assert outcomes.count("registered") == count, outcomes
    return count / (time.perf_counter() - began)


def pgbench(sql: str) -> tuple[float, str]:
    url = get_settings().database_url.replace("postgresql+psycopg://", "postgresql://")
    path = Path(tempfile.mkdtemp(prefix="funrun-pgbench-")) / "confirm.sql"
    path.write_text(sql)
    binary = shutil.which("pgbench") or "/usr/lib/postgresql/15/bin/pgbench"
    out = subprocess.run(
        [binary, "-n", "-c", str(CLIENTS), "-j", "2", "-T", str(PGBENCH_SECONDS), "-f", str(path), url],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    found = re.search(r"tps = ([\d.]+)", out.stdout)
    return (float(found[1]) if found else 0.0), out.stdout + out.stderr


def measure() -> int:
    confirm_rush._prepare_database()  # noqa: SLF001
    event_id = confirm_rush._seed(100_000)  # noqa: SLF001
    statements = record(event_id, 1)
    ours = python_path(event_id, 10, CONFIRMATIONS)
    tps, log = pgbench(script(statements, 1))
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[:3]
    print(f"{machine()}; load {' '.join(load)}")
    print(f"statements per confirmation: {len(statements)}")
    print(f"python path: {ours:.0f} confirmations/s ({CLIENTS} threads, {CONFIRMATIONS})")
    print(f"pgbench same SQL: {tps:.0f} tps ({CLIENTS} clients, {PGBENCH_SECONDS} s)")
    print(f"ratio: {ours / tps:.2f}" if tps else "pgbench failed:\n" + log[-3000:])
    return 0


def _run_from(code: Path) -> dict[str, str]:
    """This bench as the code in ``code`` has it, in a subprocess; its result lines by name."""
    env = {**os.environ, "PYTHONPATH": str(code)}
    out = subprocess.run(
        [sys.executable, "-m", "bench.confirm_pgbench"],
        cwd=code, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines() if ": " in line)
    load = re.search(r"load ([\d.]+)", out.stdout)
    lines["load"] = load[1] if load else "?"
    if out.returncode or "ratio" not in lines:
        lines["ratio"] = f"failed: {(out.stdout + out.stderr)[-800:]}"
    return lines


def compare(before: Path, rounds: int) -> int:
    print(machine())
    print("| round | code | load | statements | ours /s | pgbench tps | ratio |")
    print("|---|---|---|---|---|---|---|")
    for n in range(1, rounds + 1):
        for label, code in (("before", before), ("after", ROOT)):
            r = _run_from(code)
            ours = r.get("python path", "?").split(" ")[0]
            tps = r.get("pgbench same SQL", "?").split(" ")[0]
            statements = r.get("statements per confirmation", "?")
            print(f"| {n} | {label} | {r['load']} | {statements} | {ours} | {tps} | {r['ratio']} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", type=Path, help="code to measure as 'before' (a directory)")
    parser.add_argument("--rounds", type=int, default=2, help="before/after pairs with --compare")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(args.compare.resolve(), args.rounds)
    return measure()


if __name__ == "__main__":
    raise SystemExit(main())
