"""clean_inbound (queue `low`, hourly): raw downloads nobody used are removed after 8 days."""

from __future__ import annotations

import os
import time
from pathlib import Path

from core import media
from core.config import get_settings
from core.payments import screenshots
from workers.jobs import PERIODIC
from workers.sweeper import INBOUND_KEEP, clean_inbound


def _file(name: str, age_days: float) -> Path:
    path = Path(get_settings().media_dir) / media.INBOUND_DIR / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8raw")
    then = time.time() - age_days * 86400
    os.utime(path, (then, then))
    return path


def test_clean_inbound_is_registered_hourly_on_low() -> None:
    assert PERIODIC["clean_inbound"] == (clean_inbound, 3600)
    assert clean_inbound.queue_name == "low"
    assert INBOUND_KEEP.days > 7, "kept longer than a draft lives"


def test_only_old_raw_files_are_removed() -> None:
    old, fresh = _file("old.jpg", 9), _file("fresh.jpg", 1)
    payments = Path(get_settings().media_dir) / screenshots.PAYMENTS_DIR / "kept.jpg"
    payments.parent.mkdir(parents=True, exist_ok=True)
    payments.write_bytes(b"clean copy")
    os.utime(payments, (0, 0))
    clean_inbound.fn()
    assert not old.exists() and fresh.exists() and payments.exists()
    assert media.remove_stale_inbound(older_than=INBOUND_KEEP.total_seconds(), now=time.time()) == 0
