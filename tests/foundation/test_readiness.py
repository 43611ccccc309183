"""/readyz beyond the database and broker: a full or read-only media disk, a stopped scheduler."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from core import health
from core.config import get_settings
from workers import scheduler


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """MEDIA_DIR on a 512 KiB tmpfs (root only), 128 KiB counting as nearly full."""
    folder = tmp_path / "media"
    folder.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)]
    if os.geteuid() != 0 or subprocess.run(mount, capture_output=True).returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    monkeypatch.setenv("MEDIA_DIR", str(folder))
    monkeypatch.setenv("MEDIA_MIN_FREE_MB", "0.125")
    get_settings.cache_clear()
    health._media_cache.clear()
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)
        get_settings.cache_clear()
        health._media_cache.clear()


def _reasons(client: TestClient) -> list[str]:
    health._media_cache.clear()  # the check is cached for 2 s; the test need not wait for it
    response = client.get("/readyz")
    return response.json().get("reasons", []) if response.status_code == 503 else []


def test_readyz_reports_a_full_then_a_read_only_media_disk(
    committed_db: None, broker: Any, small_disk: Path
) -> None:
    client = TestClient(create_app())
    assert _reasons(client) == []
    filler = small_disk / "filler.bin"
    filler.write_bytes(b"\0" * 450 * 1024)
    (reason,) = _reasons(client)
    assert reason.startswith("media storage nearly full: 0.")
    assert "MEDIA_MIN_FREE_MB 0.125" in reason
    filler.unlink()
    assert _reasons(client) == []  # recovers by itself once space is freed
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    assert _reasons(client) == ["media storage not writable"]
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert _reasons(client) == []


def test_media_check_is_skipped_on_object_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIA_URL", "s3://bucket/prefix")
    monkeypatch.setenv("MEDIA_MIN_FREE_MB", "1e12")  # no local disk has that much
    get_settings.cache_clear()
    try:
        assert health.media_problem(get_settings()) is None
    finally:
        get_settings.cache_clear()


def _run_scheduler_until_it_beats(redis_client: Any) -> None:
    """One scheduler as `funrun worker` runs it, stopped cleanly after its first heartbeat."""
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run, args=(stop,), kwargs={"tick": 0.01})
    thread.start()
    deadline = time.monotonic() + 5
    while not redis_client.exists(health.HEARTBEAT_KEY) and time.monotonic() < deadline:
        time.sleep(0.01)
    beat = float(redis_client.get(health.HEARTBEAT_KEY))
    assert abs(time.time() - beat) < 5
    stop.set()
    thread.join(timeout=5)


def test_readyz_reports_a_scheduler_whose_heartbeat_stopped(
    committed_db: None, broker: Any, redis_client: Any
) -> None:
    client = TestClient(create_app())
    assert _reasons(client) == []  # no scheduler has run here yet: none is expected
    _run_scheduler_until_it_beats(redis_client)
    assert not redis_client.exists(health.HEARTBEAT_KEY)  # a clean stop clears it
    assert _reasons(client) == []
    # A scheduler killed -9 leaves its last heartbeat behind, ageing.
    redis_client.set(health.HEARTBEAT_KEY, repr(time.time() - 60))
    (reason,) = _reasons(client)
    assert reason.startswith("scheduler not running: last heartbeat 6")
    redis_client.set(health.HEARTBEAT_KEY, repr(time.time()))  # a new one ticks again
    assert _reasons(client) == []


def test_embedded_scheduler_beats_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = get_settings().model_copy(update={"scheduler_max_age_seconds": 5.0})
    try:
        assert health.scheduler_problem(settings, None) is None  # no thread started
        health.beat(None)
        assert health.scheduler_problem(settings, None) is None
        monkeypatch.setattr(health, "_local_beat", time.time() - 30)
        assert health.scheduler_problem(settings, None) == (
            "scheduler not running: last heartbeat 30 s ago"
        )
    finally:
        health.forget(None)
