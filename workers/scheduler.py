"""A tiny periodic scheduler: sends the sweep and expiry jobs on their intervals.

Runs as its own process (`python -m workers.scheduler`, started by `funrun worker`) or as a thread in
`funrun serve` for the embedded default. Jobs are safe to run on several workers at once.
"""

from __future__ import annotations

import logging
import threading
import time

from workers import jobs

log = logging.getLogger(__name__)


def run(stop: threading.Event | None = None, *, tick: float = 1.0) -> None:
    """Send each periodic job when its interval has passed, until ``stop`` is set."""
    stop = stop or threading.Event()
    last: dict[str, float] = {}
    while not stop.is_set():
        now = time.monotonic()
        for name, (actor, interval) in jobs.PERIODIC.items():
            if now - last.get(name, -interval) >= interval:
                last[name] = now
                try:
                    actor.send()
                except Exception:  # noqa: BLE001  (broker down: try again next tick)
                    log.warning("could not enqueue periodic job %s", name)
        stop.wait(tick)


if __name__ == "__main__":
    run()
