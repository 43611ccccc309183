"""Webhook routes through the ASGI app: secrets, malformed bodies, every fixture, dedupe."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from core.models import Conversation, InboundUpdate
from tests.channels.helpers import count, fixture, fonnte_path, inbound_rows, tg_headers
from tests.channels.test_parse import FONNTE, TELEGRAM


def test_telegram_wrong_or_missing_secret_is_401(client: TestClient) -> None:
    body = fixture("telegram", "text_private")
    assert (
        client.post("/webhooks/telegram", json=body, headers=tg_headers("nope")).status_code == 401
    )
    assert client.post("/webhooks/telegram", json=body).status_code == 401
    assert count(InboundUpdate) == 0


def test_telegram_malformed_json_is_400_without_traceback(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for body in (b"{not json", b"[1, 2]", b'{"update_id": "x"}'):
        response = client.post(
            "/webhooks/telegram",
            content=body,
            headers={**tg_headers(), "Content-Type": "application/json"},
        )
        assert response.status_code == 400
        assert "Traceback" not in response.text
    assert not [r for r in caplog.records if r.exc_info]
    assert count(InboundUpdate) == 0


@pytest.mark.parametrize("name", sorted(TELEGRAM))
def test_telegram_fixture_is_acked_and_stored(client: TestClient, name: str) -> None:
    response = client.post(
        "/webhooks/telegram", json=fixture("telegram", name), headers=tg_headers()
    )
    assert response.status_code == 200
    assert count(InboundUpdate) == (0 if TELEGRAM[name] is None else 1)


def test_telegram_duplicate_delivery_is_stored_once(client: TestClient) -> None:
    body = fixture("telegram", "command_start")
    for _ in range(3):
        assert client.post("/webhooks/telegram", json=body, headers=tg_headers()).status_code == 200
    rows = inbound_rows()
    assert len(rows) == 1 and rows[0].external_id == "912345678"
    assert count(Conversation) == 1


def test_fonnte_wrong_secret_is_404(client: TestClient) -> None:
    response = client.post(fonnte_path("wrong"), json=fixture("fonnte", "text"))
    assert response.status_code == 404
    assert count(InboundUpdate) == 0


def test_fonnte_malformed_body_is_200_and_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for body in (b"{broken", b"[]", b'{"message": "no sender"}'):
        response = client.post(
            fonnte_path(), content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 200
    assert sum("malformed fonnte" in r.getMessage() for r in caplog.records) == 3
    assert not [r for r in caplog.records if r.exc_info]
    assert count(InboundUpdate) == 0


@pytest.mark.parametrize("name", sorted(FONNTE))
def test_fonnte_fixture_is_acked_and_stored(client: TestClient, name: str) -> None:
    response = client.post(fonnte_path(), json=fixture("fonnte", name))
    assert response.status_code == 200
    assert count(InboundUpdate) == (0 if FONNTE[name] is None else 1)


def test_fonnte_form_encoding_is_accepted(client: TestClient) -> None:
    form = {"device": "628111222333", "sender": "6281234567890", "message": "daftar"}
    response = client.post(fonnte_path(), data={**form, "inboxid": "991", "isgroup": "false"})
    assert response.status_code == 200
    rows = inbound_rows()
    assert [r.external_id for r in rows] == ["inbox:991"]
    assert rows[0].message["text"] == "daftar"


def test_fonnte_retry_of_the_same_message_is_stored_once(client: TestClient) -> None:
    body = fixture("fonnte", "text_inbox")
    for _ in range(3):
        assert client.post(fonnte_path(), json=body).status_code == 200
    assert count(InboundUpdate) == 1


def test_one_conversation_per_chat_and_channel(client: TestClient) -> None:
    client.post(fonnte_path(), json=fixture("fonnte", "text_inbox"))
    client.post(fonnte_path(), json=fixture("fonnte", "image"))
    client.post(
        "/webhooks/telegram", json=fixture("telegram", "text_private"), headers=tg_headers()
    )
    assert count(Conversation) == 2
    assert len({r.conversation_id for r in inbound_rows()}) == 2
