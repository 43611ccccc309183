"""Webhook -> process_conversation -> outbox -> fake provider, with a real worker and Redis."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from channels.telegram.outbound import to_html
from core.config import get_settings
from core.db import get_engine, unit_of_work
from core.enums import OutboundStatus
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import InboundUpdate, OutboundMessage
from tests.channels.helpers import (
    TG_CHAT,
    count,
    fixture,
    fonnte_path,
    inbound_rows,
    outbound_rows,
    tg_headers,
    tg_text,
    wait_until,
)


def _all_processed() -> bool:
    return count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0


def _all_sent() -> bool:
    return count(OutboundMessage, OutboundMessage.status != OutboundStatus.SENT) == 0


def _settle() -> None:
    wait_until(
        lambda: _all_processed() and _all_sent() and count(OutboundMessage) > 0, what="settle"
    )


def test_text_message_is_answered_once_even_when_redelivered(
    client: TestClient, channels: Any
) -> None:
    fake_telegram, _ = channels
    body = fixture("telegram", "command_start")
    for _ in range(3):
        assert client.post("/webhooks/telegram", json=body, headers=tg_headers()).status_code == 200
    _settle()
    (row,) = inbound_rows()
    assert row.attempts == 1 and row.error is None
    replies = outbound_rows()
    assert {r.idempotency_key.rsplit(":", 1)[0] for r in replies} == {f"in:{row.id}"}
    wait_until(lambda: len(fake_telegram.sent_texts(TG_CHAT)) == len(replies))


def test_fifty_concurrent_deliveries_for_one_chat_are_processed_in_order(
    client: TestClient, channels: Any
) -> None:
    fake_telegram, _ = channels
    barrier = threading.Barrier(10)
    statuses: list[int] = []

    def post(batch: range) -> None:
        barrier.wait()
        for n in batch:
            response = client.post(
                "/webhooks/telegram", json=tg_text(500000 + n, f"pesan {n}"), headers=tg_headers()
            )
            statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(range(i, 50, 10),)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 50
    _settle()
    rows = inbound_rows()
    assert len(rows) == 50 and all(r.attempts == 1 for r in rows)
    # Processed one at a time in arrival (id) order ...
    processed = [r.processed_at for r in rows]
    assert processed == sorted(processed)
    # ... replies written in that order, and delivered to the chat in the order written.
    sources = [int(r.idempotency_key.split(":")[1]) for r in outbound_rows()]
    assert sources == sorted(sources)
    wait_until(lambda: len(fake_telegram.sent_texts(TG_CHAT)) == len(sources))
    assert fake_telegram.sent_texts(TG_CHAT) == [to_html(r.text) for r in outbound_rows()]
    sent_ids = [int(r.provider_message_id) for r in outbound_rows()]
    assert sent_ids == sorted(sent_ids)


def test_a_reply_waits_behind_the_chats_older_unsent_message(
    client: TestClient, channels: Any
) -> None:
    """A reply is claimed as it is written only when nothing older of the chat is still open."""
    fake_telegram, _ = channels
    with unit_of_work() as uow:  # queued, never sent (as if its drain were still to come)
        older = outbox.write(
            uow.session, channel="telegram", recipient=TG_CHAT, reply=Reply(text="e-tiket"),
            idempotency_key="older:1", priority=outbox.PRIORITY_NOTIFICATION,
        )  # fmt: skip
    client.post("/webhooks/telegram", json=tg_text(600001, "halo"), headers=tg_headers())
    _settle()
    rows = outbound_rows()
    assert rows[0].id == older.id and len(rows) > 1
    wait_until(lambda: len(fake_telegram.sent_texts(TG_CHAT)) == len(rows))
    assert fake_telegram.sent_texts(TG_CHAT) == [to_html(r.text) for r in rows]  # in id order
    assert [r.attempts for r in rows] == [1] * len(rows)  # each claimed once, then sent


_BOOM = """
CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'boom'; END $$;
CREATE TRIGGER boom BEFORE UPDATE ON conversations FOR EACH ROW
WHEN (OLD.last_activity_at IS DISTINCT FROM NEW.last_activity_at) EXECUTE FUNCTION boom();
"""


def test_a_message_the_engine_fails_on_is_answered_and_the_chat_goes_on(
    client: TestClient, channels: Any
) -> None:
    """The engine runs without a savepoint: its failure rolls the drain back, which runs again."""
    fake_telegram, _ = channels
    engine = get_engine()
    with engine.begin() as conn:  # the database refuses what the engine writes
        conn.exec_driver_sql(_BOOM)
    try:
        client.post("/webhooks/telegram", json=tg_text(600101, "DAFTAR"), headers=tg_headers())
        _settle()
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER boom ON conversations; DROP FUNCTION boom()")
    (row,) = inbound_rows()
    assert row.error == "engine_error" and row.attempts == 1
    generic = to_html(t("error.generic", "id"))
    wait_until(lambda: fake_telegram.sent_texts(TG_CHAT) == [generic])
    client.post("/webhooks/telegram", json=tg_text(600102, "DAFTAR"), headers=tg_headers())
    _settle()
    assert [r.error for r in inbound_rows()] == ["engine_error", None]
    wait_until(lambda: len(fake_telegram.sent_texts(TG_CHAT)) > 1)


def test_unsupported_kinds_get_a_text_or_photo_answer(client: TestClient, channels: Any) -> None:
    fake_telegram, fake_fonnte = channels
    client.post("/webhooks/telegram", json=fixture("telegram", "sticker"), headers=tg_headers())
    client.post(fonnte_path(), json=fixture("fonnte", "location"))
    _settle()
    expected = t("channels.unsupported", "id")
    wait_until(lambda: len(fake_fonnte.sent("6281234567890")) == 1)
    assert fake_fonnte.sent_texts("6281234567890") == [expected]
    assert fake_telegram.sent_texts(TG_CHAT) == [to_html(expected)]
    assert {r.error for r in inbound_rows()} == {"unsupported:sticker", "unsupported:location"}


def test_callback_query_is_answered(client: TestClient, channels: Any) -> None:
    fake_telegram, _ = channels
    client.post(
        "/webhooks/telegram", json=fixture("telegram", "callback_query"), headers=tg_headers()
    )
    _settle()
    wait_until(lambda: fake_telegram.requests("answerCallbackQuery"))
    (call,) = fake_telegram.requests("answerCallbackQuery")
    assert call.params["callback_query_id"] == "4382bfdwdsb323b2d9"


def test_photo_is_downloaded_to_private_storage(client: TestClient, channels: Any) -> None:
    fake_telegram, fake_fonnte = channels
    fake_telegram.add_file("AgACAgUAAxkBAAMrAw", b"\xff\xd8jpeg-bytes")
    url = fake_fonnte.add_media("file.jpg", b"\xff\xd8wa-bytes")
    client.post(
        "/webhooks/telegram", json=fixture("telegram", "photo_private"), headers=tg_headers()
    )
    client.post(fonnte_path(), json=fixture("fonnte", "image", url=url))
    _settle()
    media = Path(get_settings().media_dir)
    stored = {r.channel: r.message["attachments"][0]["stored_path"] for r in inbound_rows()}
    assert (media / stored["telegram"]).read_bytes() == b"\xff\xd8jpeg-bytes"
    assert (media / stored["whatsapp"]).read_bytes() == b"\xff\xd8wa-bytes"
    assert all(p.startswith("inbound/") for p in stored.values())


def test_image_over_the_cap_is_refused_with_a_clear_reply(
    client: TestClient, channels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_telegram, fake_fonnte = channels
    monkeypatch.setenv("DOWNLOAD_MAX_BYTES", str(1024 * 1024))
    get_settings.cache_clear()
    url = fake_fonnte.add_media("big.jpg", b"x" * (1024 * 1024 + 1))
    fake_telegram.add_file("BQACAgUAAxkBAAMs", b"x" * 10)  # declared 2.3 MB in the update
    client.post(fonnte_path(), json=fixture("fonnte", "image", url=url))
    client.post(
        "/webhooks/telegram", json=fixture("telegram", "document_image"), headers=tg_headers()
    )
    _settle()
    expected = t("channels.image_too_large", "id", max_mb=1)
    assert fake_fonnte.sent_texts("6281234567890") == [expected]
    assert fake_telegram.sent_texts(TG_CHAT) == [to_html(expected)]
    assert {r.error for r in inbound_rows()} == {"too_large"}
    assert not fake_telegram.requests("getFile")  # refused from the declared size alone
    assert not list((Path(get_settings().media_dir) / "inbound").glob("*.part"))


def test_flooding_runner_gets_one_slow_down_and_others_are_unaffected(
    client: TestClient, channels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_telegram, _ = channels
    monkeypatch.setenv("FLOOD_MAX_MESSAGES", "5")
    get_settings.cache_clear()
    for n in range(12):
        client.post("/webhooks/telegram", json=tg_text(700000 + n, "spam"), headers=tg_headers())
    client.post(
        "/webhooks/telegram", json=tg_text(800000, "halo", chat_id=555), headers=tg_headers()
    )
    _settle()
    slow = t("channels.slow_down", "id")
    wait_until(lambda: slow in fake_telegram.sent_texts(TG_CHAT))
    assert fake_telegram.sent_texts(TG_CHAT).count(slow) == 1
    assert slow not in fake_telegram.sent_texts(555)
    flooded = [r for r in inbound_rows() if r.chat_id == TG_CHAT and r.error == "flood"]
    assert len(flooded) == 12 - 5
