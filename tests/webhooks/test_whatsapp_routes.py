"""/webhooks/whatsapp through the ASGI app: handshake, signatures, batches, dedupe, statuses."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from core.db import unit_of_work
from core.enums import Channel, OutboundStatus
from core.messages import Reply
from core.messaging import outbox
from core.models import Conversation, InboundUpdate, OutboundMessage
from tests.channels.helpers import count, fixture, inbound_rows, outbound_rows, wa_post
from tests.channels.test_whatsapp_parse import MESSAGES
from tests.fakes.graph_api import sign, status_event

VERIFY = "wa-verify-token-for-tests"


def _handshake(client: TestClient, **params: str) -> object:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"}
    return client.get("/webhooks/whatsapp", params={**query, **params})


def test_handshake_echoes_the_challenge_as_plain_text(client: TestClient) -> None:
    response = _handshake(client)
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params", [{"hub.verify_token": "wrong"}, {"hub.mode": "unsubscribe"}, {"hub.verify_token": ""}]
)
def test_handshake_with_a_wrong_token_or_mode_is_403(
    client: TestClient, params: dict[str, str]
) -> None:
    response = _handshake(client, **params)
    assert response.status_code == 403
    assert "1158201444" not in response.text


def test_missing_wrong_or_altered_signature_is_401_and_stores_nothing(client: TestClient) -> None:
    body = json.dumps(fixture("whatsapp", "text")).encode()
    assert client.post("/webhooks/whatsapp", content=body).status_code == 401
    assert wa_post(client, body, secret="not-the-app-secret").status_code == 401
    good = sign(body, "wa-app-secret-for-tests")
    replayed = body.replace(b"Halo", b"Hola")  # a captured body replayed with one byte changed
    response = client.post(
        "/webhooks/whatsapp", content=replayed, headers={"X-Hub-Signature-256": good}
    )
    assert response.status_code == 401
    assert count(InboundUpdate) == 0


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_every_fixture_is_acked_and_stored(client: TestClient, name: str) -> None:
    response = wa_post(client, fixture("whatsapp", name))
    assert response.status_code == 200
    expected = 0 if MESSAGES[name] is None else 1
    if name == "batch_three_runners":
        expected = 3
    assert count(InboundUpdate) == expected


def test_a_batch_of_three_runners_becomes_three_rows_and_conversations(
    client: TestClient,
) -> None:
    assert wa_post(client, fixture("whatsapp", "batch_three_runners")).status_code == 200
    rows = inbound_rows()
    assert [r.chat_id for r in rows] == ["6281200000001", "6281200000002", "6281200000003"]
    assert {r.channel for r in rows} == {Channel.WHATSAPP_CLOUD.value}
    assert len({r.conversation_id for r in rows}) == 3
    assert count(Conversation, Conversation.channel == Channel.WHATSAPP_CLOUD.value) == 3


def test_duplicate_delivery_is_stored_once(client: TestClient) -> None:
    body = fixture("whatsapp", "batch_three_runners")
    for _ in range(3):
        assert wa_post(client, body).status_code == 200
    assert count(InboundUpdate) == 3


def test_signed_malformed_bodies_are_200_and_logged(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for body in (b"{not json", b"[1, 2]", b'{"entry": "x"}', b'{"entry": [{"changes": 5}]}'):
        response = wa_post(client, body)
        assert response.status_code == 200  # Meta would retry a non-2xx for days
        assert "Traceback" not in response.text
    assert not [r for r in caplog.records if r.exc_info]
    assert count(InboundUpdate) == 0


def _sent_row(wamid: str) -> int:
    with unit_of_work() as uow:
        row = outbox.write(
            uow.session,
            channel=Channel.WHATSAPP_CLOUD.value,
            recipient="6281298765432",
            reply=Reply(text="Tiket kamu"),
            idempotency_key=f"test:{wamid}",
        )
        outbox.mark_sent(
            uow.session, outbound_id=row.id, provider_message_id=wamid, now=row.created_at
        )
        return row.id


def test_statuses_move_the_outbox_row_forward_only(client: TestClient) -> None:
    row_id = _sent_row("wamid.A")
    for status in ("delivered", "read", "sent", "delivered"):  # Meta's order is not guaranteed
        assert wa_post(client, status_event("wamid.A", "6281298765432", status)).status_code == 200
    (row,) = outbound_rows(OutboundMessage.id == row_id)
    assert row.delivery_status == "read" and row.delivered_at is not None
    assert row.status == OutboundStatus.SENT


def test_a_failed_status_fails_the_row_with_metas_reason(client: TestClient) -> None:
    row_id = _sent_row("wamid.B")
    body = status_event(
        "wamid.B", "6281298765432", "failed", code=131026, title="Message undeliverable"
    )
    assert wa_post(client, body).status_code == 200
    (row,) = outbound_rows(OutboundMessage.id == row_id)
    assert row.status == OutboundStatus.FAILED and row.delivery_status == "failed"
    assert row.error == "131026 Message undeliverable"


def test_a_status_for_an_unknown_message_is_acked(client: TestClient) -> None:
    response = wa_post(client, status_event("wamid.unknown", "628", "delivered"))
    assert response.status_code == 200


def test_the_runners_next_message_releases_their_waiting_rows(client: TestClient) -> None:
    with unit_of_work() as uow:
        row = outbox.write(
            uow.session,
            channel=Channel.WHATSAPP_CLOUD.value,
            recipient="6281298765432",
            reply=Reply(text="Pengingat"),
            idempotency_key="test:waiting",
        )
        row.status = OutboundStatus.WAITING.value
        row.error = "waiting: outside the 24-hour window"
        row_id = row.id
    assert wa_post(client, fixture("whatsapp", "text")).status_code == 200
    (row,) = outbound_rows(OutboundMessage.id == row_id)
    assert row.status == OutboundStatus.PENDING and row.error is None
