"""Readiness checks beyond the database and broker: the media disk and the scheduler's heartbeat.

/readyz (app/main.py) and the operations page ask these; both are cheap enough to poll often.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from core.config import Settings

HEARTBEAT_KEY = "funrun:scheduler:heartbeat"
_MEDIA_CACHE_SECONDS = 2.0
_media_cache: dict[Path, tuple[float, str | None]] = {}
_local_beat: float | None = None  # the embedded scheduler thread's last tick (no Redis)


def media_problem(settings: Settings) -> str | None:
    """The local media disk nearly full or not writable; None when fine or on object storage."""
    if settings.media_url:  # S3: no local disk to fill; the bucket is checked by its own writes
        return None
    folder = Path(settings.media_dir)
    now = time.monotonic()
    cached = _media_cache.get(folder)
    if cached and now - cached[0] < _MEDIA_CACHE_SECONDS:
        return cached[1]
    problem = _media_disk(folder, settings.media_min_free_mb)
    _media_cache[folder] = (now, problem)
    return problem


def _media_disk(folder: Path, min_free_mb: float) -> str | None:
    if not folder.exists():
        return None  # created on the first write; the parent's space is what counts then
    try:
        stats = os.statvfs(folder)
    except OSError as exc:
        return f"media storage unavailable: {type(exc).__name__}"
    if not os.access(folder, os.W_OK) or stats.f_flag & os.ST_RDONLY:
        return "media storage not writable"
    free_mb = stats.f_bavail * stats.f_frsize / 1_048_576
    if free_mb < min_free_mb:
        return (
            f"media storage nearly full: {free_mb:.1f} MB free (MEDIA_MIN_FREE_MB {min_free_mb:g})"
        )
    return None


def beat(client: Any | None) -> None:
    """Record one scheduler tick: in Redis for separate processes, in memory when embedded."""
    global _local_beat
    if client is None:
        _local_beat = time.time()
        return
    client.set(HEARTBEAT_KEY, repr(time.time()))


def forget(client: Any | None) -> None:
    """A scheduler stopping on purpose: no heartbeat is expected any more."""
    global _local_beat
    if client is None:
        _local_beat = None
        return
    client.delete(HEARTBEAT_KEY)


def scheduler_problem(settings: Settings, client: Any | None) -> str | None:
    """A "scheduler not running" reason when its heartbeat is stale, else None.

    Only where one is expected: a heartbeat that was never written (no `funrun worker` has run
    against this Redis yet, or the last one stopped cleanly) is not a fault, so an API that
    starts before its workers is still ready; one that stopped coming is.
    """
    if client is None:
        last = _local_beat
    else:
        raw = client.get(HEARTBEAT_KEY)
        last = float(raw) if raw else None
    if last is None:
        return None
    age = time.time() - last
    if age > settings.scheduler_max_age_seconds:
        return f"scheduler not running: last heartbeat {age:.0f} s ago"
    return None
