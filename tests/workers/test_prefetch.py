"""Images are fetched right after the webhook's ack, even while no worker can be reached."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from core.config import get_settings
from core.models import InboundUpdate
from tests.channels.helpers import count, fixture, fonnte_path, inbound_rows, tg_headers, wait_until
from tests.workers.test_sweeper import _redis, _start_redis


def _stored_paths() -> dict[str, str | None]:
    return {r.channel: r.message["attachments"][0].get("stored_path") for r in inbound_rows()}


def test_photos_are_downloaded_while_redis_is_down(client: TestClient, channels: Any) -> None:
    fake_telegram, fake_fonnte = channels
    fake_telegram.add_file("AgACAgUAAxkBAAMrAw", b"\xff\xd8tg-early")
    url = fake_fonnte.add_media("bukti.jpg", b"\xff\xd8wa-early")
    _redis("shutdown", "nosave")
    try:
        tg = fixture("telegram", "photo_private")
        assert client.post("/webhooks/telegram", json=tg, headers=tg_headers()).status_code == 200
        wa = fixture("fonnte", "image", url=url)
        assert client.post(fonnte_path(), json=wa).status_code == 200
        # Nothing could be enqueued, yet both images are already in private storage.
        wait_until(lambda: all(_stored_paths().values()) and len(_stored_paths()) == 2)
    finally:
        _start_redis()
    media = Path(get_settings().media_dir)
    stored = _stored_paths()
    assert (media / str(stored["telegram"])).read_bytes() == b"\xff\xd8tg-early"
    assert (media / str(stored["whatsapp"])).read_bytes() == b"\xff\xd8wa-early"
    assert count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 2  # the sweeper's job
    # Fetched once, by the webhook process; the worker will find it stored.
    assert len(fake_telegram.requests("getFile")) == 1
