"""Enqueues that failed while Redis was away, sent again as soon as it answers (within ~1 s).

Each row is committed before its enqueue, so nothing is lost without this: the sweeper finds
stale rows after a minute or two. This only makes the backlog move the moment Redis is back.
Kept per process and bounded; a process that dies takes its list along and the sweeper covers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable

log = logging.getLogger(__name__)

RETRY_EVERY = 0.5  # seconds between attempts while Redis is down
MAX_PENDING = 20_000  # beyond this the sweeper's turn is soon enough

_pending: dict[Hashable, Callable[[], None]] = {}
_lock = threading.Lock()
_thread: threading.Thread | None = None


def later(key: Hashable, send: Callable[[], None]) -> None:
    """Remember ``send`` (one per ``key``: the newest wins) and retry it until it goes through."""
    global _thread
    with _lock:
        if len(_pending) >= MAX_PENDING and key not in _pending:
            return
        _pending[key] = send
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_retry_loop, name="redelivery", daemon=True)
            _thread.start()


def pending() -> int:
    with _lock:
        return len(_pending)


def _retry_loop() -> None:
    while True:
        time.sleep(RETRY_EVERY)
        with _lock:
            if not _pending:
                return
            batch = list(_pending.items())
        sent = _send_until_failure(batch)
        if sent:
            log.info("re-sent %s enqueues after a broker outage", sent)


def _send_until_failure(batch: list[tuple[Hashable, Callable[[], None]]]) -> int:
    sent = 0
    for key, send in batch:
        try:
            send()
        except Exception:  # noqa: BLE001  (still down: wait and try again)
            return sent
        with _lock:
            if _pending.get(key) is send:
                del _pending[key]
        sent += 1
    return sent
