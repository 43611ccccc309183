"""Worker boot time: from `funrun worker --processes 1` starting until its processes talk to Redis.

The dramatiq worker's first broker command (a new id in dramatiq's heartbeat set) is when it can
take a killed worker's messages; the scheduler's first heartbeat (core/health.py) is when periodic
jobs run again. Wall clock on a shared machine is noisy: take the median of several runs, and
compare builds at the same load. `python -m bench.boot --runs 5` (needs REDIS_URL).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from bench._report import ROOT

HEARTBEATS = "dramatiq:__heartbeats__"


def once(client: redis.Redis, env: dict[str, str], log: Path) -> tuple[float, float]:
    """Seconds until the worker's first broker command and the scheduler's first heartbeat."""
    from core.health import HEARTBEAT_KEY

    client.delete(HEARTBEAT_KEY)
    before = set(client.zrange(HEARTBEATS, 0, -1))
    args = [sys.executable, "-m", "app.cli", "worker", "--processes", "1", "--threads", "4"]
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    started = time.monotonic()
    worker = scheduler = float("nan")
    try:
        while time.monotonic() - started < 120 and (worker != worker or scheduler != scheduler):
            now = time.monotonic() - started
            if scheduler != scheduler and client.exists(HEARTBEAT_KEY):
                scheduler = now
            new = len(set(client.zrange(HEARTBEATS, 0, -1)) - before)
            # The scheduler's broker id comes with its first enqueue, right after its heartbeat.
            if worker != worker and (new >= 2 or (new == 1 and scheduler != scheduler)):
                worker = now
            time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return worker, scheduler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args(argv)
    url = os.environ.get("REDIS_URL")
    if not url:
        raise SystemExit("REDIS_URL is not set")
    client = redis.Redis.from_url(url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = Path(tempfile.mkdtemp(prefix="funrun-boot-")) / "worker.log"
    workers, schedulers = [], []
    for _ in range(opts.runs):
        worker, scheduler = once(client, env, log)
        workers.append(worker)
        schedulers.append(scheduler)
        print(f"worker {worker:5.2f} s  scheduler {scheduler:5.2f} s", flush=True)
    print(
        f"median of {opts.runs}: worker {statistics.median(workers):.2f} s, "
        f"scheduler {statistics.median(schedulers):.2f} s; load {os.getloadavg()[0]:.1f}"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
