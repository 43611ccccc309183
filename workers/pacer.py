"""A per-process scheduler for sends due a little later, so no worker thread sleeps on a pace.

A drain whose next row has a reserved slot in the future hands the rest of its claimed batch to the
pacer (workers.delivery._Paced) and returns: its dramatiq thread is free for other chats at once.
One scheduler thread keeps the jobs in a heap by due time and runs each, when due, on a small fixed
pool of sender threads (a slow provider call never delays another chat's due time). A job's run
sends what is due and returns the seconds until it is due again, or None when it is done.

Stopping (dramatiq's worker shutdown, or stop()) refuses new jobs, lets running ones finish their
current send and calls ``drop`` on every job left, which hands its rows back. A job that raises is
dropped too. Nothing here is durable: after a kill -9 the claims' leases lapse and the sweeper
resends (at-least-once, as for any sender that dies).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import dramatiq

log = logging.getLogger(__name__)

SENDERS = 4  # sender threads per process: a few slow provider calls at once (9-27 sends/s)


class Job(Protocol):
    def run(self) -> float | None:
        """Send what is due; the seconds until it is due again, or None when done."""

    def drop(self) -> None:
        """The pacer stops (or ``run`` raised): hand back whatever the job still holds."""


class Pacer:
    def __init__(self, senders: int = SENDERS) -> None:
        self._senders = senders
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Job]] = []
        self._seq = itertools.count()
        self._running = 0  # jobs on a sender thread now
        self._closing = False
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, delay: float, job: Job) -> bool:
        """Run ``job`` ``delay`` seconds from now; False when stopping (the caller keeps it)."""
        with self._cond:
            if self._closing:
                return False
            self._start()
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay), next(self._seq), job))
            self._cond.notify()
            return True

    def pending(self) -> int:
        """Jobs waiting for their due time or running (for tests and the bench)."""
        with self._cond:
            return len(self._heap) + self._running

    def stop(self, timeout: float = 10.0) -> None:
        """Refuse new jobs, let running ones finish their send, drop the rest (see the docstring)."""
        with self._cond:
            self._closing = True
            waiting = [job for _, _, job in self._heap]
            self._heap.clear()
            self._cond.notify_all()
            thread, pool = self._thread, self._pool
        for job in waiting:
            _drop(job)
        if thread is not None:
            thread.join(timeout)
        if pool is not None:
            pool.shutdown(wait=True)
        with self._cond:
            self._thread, self._pool = None, None

    def reopen(self) -> None:
        """Accept jobs again after stop() (a new worker in the same process, e.g. tests)."""
        with self._cond:
            self._closing = False

    def _start(self) -> None:  # under self._cond
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._senders, thread_name_prefix="pacer-send")
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._loop, name="pacer", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closing and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._closing:
                    return
                _, _, job = heapq.heappop(self._heap)
                self._running += 1
                pool = self._pool
            try:
                assert pool is not None
                pool.submit(self._step, job)
            except RuntimeError:  # the pool shut down meanwhile (stopping)
                with self._cond:
                    self._running -= 1
                _drop(job)

    def _step(self, job: Job) -> None:
        try:
            again = job.run()
        except Exception:  # noqa: BLE001  (a sender bug: hand the rows back, never lose them)
            log.exception("paced send failed; its rows are handed back")
            again = None
            _drop(job)
        with self._cond:
            self._running -= 1
            if again is not None and not self._closing:
                heapq.heappush(self._heap, (time.monotonic() + again, next(self._seq), job))
                self._cond.notify()
                return
        if again is not None:  # stopping meanwhile
            _drop(job)


def _drop(job: Job) -> None:
    try:
        job.drop()
    except Exception:  # noqa: BLE001  (database away: the claims' leases lapse, the sweeper resends)
        log.exception("could not hand paced rows back")


pacer = Pacer()


class StopPacer(dramatiq.Middleware):
    """Hands the pacer's rows back when the dramatiq worker of this process shuts down."""

    def before_worker_shutdown(self, broker: Any, worker: Any) -> None:
        pacer.stop()

    def after_worker_shutdown(self, broker: Any, worker: Any) -> None:
        pacer.reopen()
