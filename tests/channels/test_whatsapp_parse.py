"""WhatsApp Cloud API input: one expectation per captured fixture, signature and handshake checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from channels.whatsapp import inbound
from core.config import Settings
from core.enums import Channel
from core.messages import InboundMessage
from tests.fakes.graph_api import PHONE_NUMBER_ID, sign

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp"
RECEIVED = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)
RUNNER = "6281298765432"

# Expected fields of the (first) message per fixture; None = nothing to answer (no message).
MESSAGES: dict[str, dict[str, Any] | None] = {
    "text": {"text": "Halo, mau daftar", "sender_name": "Budi Santoso", "phone": RUNNER},
    "interactive_list_reply": {"choice": "10K", "text": None},
    "interactive_button_reply": {"choice": "1", "text": None},
    "template_button": {"choice": "status", "text": None},
    "image": {"text": "bukti transfer", "attachment": ("photo", "1479537139650973")},
    "image_no_caption": {"text": None, "attachment": ("photo", "1479537139650974")},
    "document_image": {"attachment": ("document", "1479537139650975"), "unsupported": None},
    "document_pdf": {"unsupported": "document", "text": "ini buktinya", "attachments": ()},
    "contacts": {"unsupported": "contacts"},
    "location": {"unsupported": "location"},
    "sticker": {"unsupported": "sticker", "attachments": ()},
    "audio": {"unsupported": "audio"},
    "video": {"unsupported": "video"},
    "unsupported": {"unsupported": "unsupported"},
    "reaction": None,
    "other_number": None,
    "batch_three_runners": {"chat_id": "6281200000001", "sender_name": "Andi"},
}
STATUSES: dict[str, tuple[str, str | None]] = {
    "status_sent": ("sent", None),
    "status_delivered": ("delivered", None),
    "status_read": ("read", None),
    "status_failed": ("failed", "131026 Message undeliverable: Message Undeliverable."),
}


def _load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def _parse(payload: Any) -> inbound.Batch:
    return inbound.parse(payload, received_at=RECEIVED, phone_number_id=PHONE_NUMBER_ID)


def test_every_fixture_has_an_expectation() -> None:
    assert {p.stem for p in FIXTURES.glob("*.json")} == set(MESSAGES) | set(STATUSES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_parse_whatsapp_fixture(name: str) -> None:
    batch = _parse(_load(name))
    expected = MESSAGES[name]
    assert batch.statuses == []
    if expected is None:
        assert batch.messages == []
        return
    message = batch.messages[0]
    assert message.channel is Channel.WHATSAPP_CLOUD
    assert (
        message.external_id.startswith("wamid.")
        and message.external_id == message.provider_message_id
    )
    assert message.sent_at == datetime.fromtimestamp(1767225600, UTC)
    assert InboundMessage.from_json(message.to_json()) == message
    for key, value in expected.items():
        if key == "attachment":
            assert len(message.attachments) == 1
            assert (message.attachments[0].kind, message.attachments[0].ref) == value
        else:
            assert getattr(message, key) == value, key


@pytest.mark.parametrize("name", sorted(STATUSES))
def test_parse_status_fixture(name: str) -> None:
    batch = _parse(_load(name))
    assert batch.messages == []
    [status] = batch.statuses
    assert (status.status, status.error) == STATUSES[name]
    assert status.message_id.startswith("wamid.") and status.recipient == RUNNER


def test_a_batch_carries_each_runner_as_its_own_message() -> None:
    batch = _parse(_load("batch_three_runners"))
    assert [m.chat_id for m in batch.messages] == [
        "6281200000001",
        "6281200000002",
        "6281200000003",
    ]
    assert [m.sender_name for m in batch.messages] == ["Andi", "Bunga", "Citra"]
    assert len({m.external_id for m in batch.messages}) == 3
    assert batch.messages[2].attachments[0].kind == "photo"


def test_a_malformed_item_is_skipped_not_the_batch() -> None:
    payload = _load("batch_three_runners")
    messages = payload["entry"][0]["changes"][0]["value"]["messages"]
    messages.insert(1, {"type": "text", "text": {"body": "no sender"}})
    messages.insert(2, "not an object")
    assert len(_parse(payload).messages) == 3


@pytest.mark.parametrize("payload", [[], {}, {"entry": "x"}, "text", {"object": "page"}])
def test_rejects_non_webhooks(payload: Any) -> None:
    with pytest.raises(inbound.MalformedPayload):
        _parse(payload)


def _settings(**overrides: Any) -> Settings:
    values = {
        "whatsapp_app_secret": SecretStr("app-secret"),
        "whatsapp_verify_token": SecretStr("verify-me"),
        **overrides,
    }
    return Settings(**values)


def test_signature_is_the_hmac_of_the_raw_body() -> None:
    settings = _settings()
    body = json.dumps(_load("text")).encode()
    good = sign(body, "app-secret")
    assert inbound.verify_signature(body, good, settings)
    assert inbound.verify_signature(body, good.upper().replace("SHA256=", "sha256="), settings)
    changed = body.replace(b"daftar", b"dAftar")  # a replayed body with one byte changed
    assert not inbound.verify_signature(changed, good, settings)
    assert not inbound.verify_signature(body, sign(body, "other-secret"), settings)
    assert not inbound.verify_signature(body, good.removeprefix("sha256="), settings)
    assert not inbound.verify_signature(body, None, settings)
    assert not inbound.verify_signature(body, good, _settings(whatsapp_app_secret=None))


def test_handshake_needs_subscribe_and_the_verify_token() -> None:
    settings = _settings()
    assert inbound.verify_handshake("subscribe", "verify-me", settings)
    assert not inbound.verify_handshake("subscribe", "verify-you", settings)
    assert not inbound.verify_handshake("unsubscribe", "verify-me", settings)
    assert not inbound.verify_handshake("subscribe", None, settings)
    assert not inbound.verify_handshake(
        "subscribe", "verify-me", _settings(whatsapp_verify_token=None)
    )
