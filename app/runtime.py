"""Embedded mode: a Dramatiq worker thread and the periodic scheduler inside `funrun serve`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from core.config import Settings

log = logging.getLogger(__name__)


def start_embedded_worker(settings: Settings) -> Callable[[], None]:
    """Start an in-process worker and scheduler when there is no Redis; return a stop function."""
    if not settings.use_inline_worker:
        return lambda: None
    from dramatiq import Worker

    import workers
    from workers import scheduler

    worker = Worker(workers.broker, worker_threads=4, worker_timeout=200)
    worker.start()
    stop_event = threading.Event()
    thread = threading.Thread(
        target=scheduler.run, args=(stop_event,), daemon=True, name="funrun-scheduler"
    )
    thread.start()
    log.info("embedded worker started")

    def stop() -> None:
        stop_event.set()
        worker.stop(timeout=5_000)

    return stop
