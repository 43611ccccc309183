"""A tiny periodic scheduler: sends the sweep and expiry jobs on their intervals.

Runs as its own process (`python -m workers.scheduler`, started by `funrun worker`) or as a thread in
`funrun serve` for the embedded default. Jobs are safe to run on several workers at once.
"""

from __future__ import annotations

import logging
import signal
import threading
import time

from core import health
from core.config import get_settings
from workers import jobs

log = logging.getLogger(__name__)


def run(stop: threading.Event | None = None, *, tick: float = 1.0) -> None:
    """Send each periodic job when its interval has passed, until ``stop`` is set."""
    stop = stop or threading.Event()
    last: dict[str, float] = {}
    heartbeat = _heartbeat_client()
    while not stop.is_set():
        _beat(heartbeat)
        now = time.monotonic()
        for name, (actor, interval) in jobs.PERIODIC.items():
            if now - last.get(name, -interval) >= interval:
                last[name] = now
                try:
                    actor.send()
                except Exception:  # noqa: BLE001  (broker down: try again next tick)
                    log.warning("could not enqueue periodic job %s", name)
        stop.wait(tick)
    _forget(heartbeat)


def _heartbeat_client():  # noqa: ANN202
    """Redis where the scheduler is its own process (/readyz reads it there); None: in memory."""
    url = get_settings().redis_url
    if not url:
        return None
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)


def _beat(client) -> None:  # noqa: ANN001
    try:
        health.beat(client)
    except Exception:  # noqa: BLE001  (broker down: /readyz says so already)
        log.debug("could not write the scheduler heartbeat")


def _forget(client) -> None:  # noqa: ANN001
    try:
        health.forget(client)
    except Exception:  # noqa: BLE001
        log.debug("could not clear the scheduler heartbeat")


def _main() -> None:
    stop = threading.Event()
    # `funrun worker` ends its scheduler with SIGTERM: stop cleanly so the heartbeat is cleared.
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    run(stop)


if __name__ == "__main__":
    _main()
