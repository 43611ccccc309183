"""One parse test per captured fixture: every supported (and ignored) update type."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from channels.fonnte import inbound as fonnte
from channels.telegram import inbound as telegram
from core import phones
from core.enums import Channel
from core.messages import InboundMessage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RECEIVED = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)

# Expected InboundMessage fields per fixture; None = ignored (the route acks and stores nothing).
TELEGRAM: dict[str, dict[str, Any] | None] = {
    "text_private": {"text": "Budi Santoso", "sender_name": "Budi Santoso", "command": None},
    "command_start": {"text": "/start", "command": "start", "command_arg": None},
    "start_deeplink": {"command": "start", "command_arg": "10K"},
    "photo_private": {"text": "bukti transfer", "attachment": ("photo", "AgACAgUAAxkBAAMrAw")},
    "document_image": {"text": "bukti", "attachment": ("document", "BQACAgUAAxkBAAMs")},
    "document_pdf": {"unsupported": "document", "attachments": ()},
    "callback_query": {"choice": "cat:10k", "callback_id": "4382bfdwdsb323b2d9", "text": None},
    "contact": {"phone": "6281234567890", "text": None},
    "sticker": {"unsupported": "sticker"},
    "voice": {"unsupported": "voice"},
    "video": {"unsupported": "video"},
    "location": {"unsupported": "location"},
    "edited_message": None,
    "group_text": None,
    "channel_post": None,
    "my_chat_member": None,
}

FONNTE: dict[str, dict[str, Any] | None] = {
    "text": {"text": "Halo", "chat_id": "6281298765432", "phone": "6281298765432"},
    "text_inbox": {
        "text": "daftar",
        "external_id": "inbox:123450",
        "provider_message_id": "123450",
    },
    "image": {
        "text": "bukti transfer",
        "external_id": "inbox:123456",
        "attachment": ("photo", "https://fonnte-media.example/att/file.jpg"),
    },
    "image_no_caption": {
        "text": None,
        "attachment": ("photo", "https://fonnte-media.example/att/photo.png"),
    },
    "location": {"unsupported": "location"},
    "video": {"unsupported": "video", "attachments": ()},
    "document": {"unsupported": "document", "text": "ini buktinya"},
    "group": None,
    "self_chat": None,
}


def _load(channel: str, name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / channel / f"{name}.json").read_text())


def _check(message: Any, expected: dict[str, Any]) -> None:
    for key, value in expected.items():
        if key == "attachment":
            assert len(message.attachments) == 1
            assert (message.attachments[0].kind, message.attachments[0].ref) == value
        else:
            assert getattr(message, key) == value, key


def test_every_fixture_has_an_expectation() -> None:
    assert {p.stem for p in (FIXTURES / "telegram").glob("*.json")} == set(TELEGRAM)
    assert {p.stem for p in (FIXTURES / "fonnte").glob("*.json")} == set(FONNTE)


@pytest.mark.parametrize("name", sorted(TELEGRAM))
def test_parse_telegram_fixture(name: str) -> None:
    payload = _load("telegram", name)
    message = telegram.parse(payload, received_at=RECEIVED)
    expected = TELEGRAM[name]
    if expected is None:
        assert message is None
        return
    assert message is not None
    assert message.channel is Channel.TELEGRAM
    assert message.external_id == str(payload["update_id"])
    assert message.chat_id == "123456789"
    assert message.sent_at is not None
    assert message.received_at == RECEIVED
    assert InboundMessage.from_json(message.to_json()) == message
    _check(message, expected)


@pytest.mark.parametrize("name", sorted(FONNTE))
def test_parse_fonnte_fixture(name: str) -> None:
    payload = _load("fonnte", name)
    message = fonnte.parse(payload, received_at=RECEIVED)
    expected = FONNTE[name]
    if expected is None:
        assert message is None
        return
    assert message is not None
    assert message.channel is Channel.WHATSAPP
    assert message.sender_name
    assert message.received_at == RECEIVED
    assert InboundMessage.from_json(message.to_json()) == message
    _check(message, expected)


def test_photo_keeps_the_largest_size() -> None:
    message = telegram.parse(_load("telegram", "photo_private"), received_at=RECEIVED)
    assert message is not None
    assert message.attachments[0].unique_ref == "AQADq7Ex3"
    assert message.attachments[0].size == 98213


def test_fonnte_dedupe_key_without_inbox_hashes_identity() -> None:
    payload = {**_load("fonnte", "text"), "timestamp": 1767225600}
    first = fonnte.parse(payload, received_at=RECEIVED)
    again = fonnte.parse(payload, received_at=datetime(2026, 1, 1, 0, 6, tzinfo=UTC))
    other = fonnte.parse({**payload, "message": "Halo lagi"}, received_at=RECEIVED)
    assert first and again and other
    assert first.external_id == again.external_id  # Fonnte's retry a minute later
    assert first.external_id != other.external_id


def test_fonnte_without_timestamp_does_not_merge_repeated_answers() -> None:
    payload = _load("fonnte", "text")
    first = fonnte.parse(payload, received_at=RECEIVED)
    second = fonnte.parse(payload, received_at=datetime(2026, 1, 1, 0, 5, 3, tzinfo=UTC))
    assert first and second and first.external_id != second.external_id


def test_fonnte_form_values_are_strings() -> None:
    form = {"sender": "6281234567890", "message": "1", "isgroup": "false", "inboxid": "77"}
    message = fonnte.parse(form, received_at=RECEIVED)
    assert message is not None and message.external_id == "inbox:77" and message.text == "1"
    assert fonnte.parse({**form, "isgroup": "true"}, received_at=RECEIVED) is None


@pytest.mark.parametrize("payload", [[], {"update_id": "x"}, {"message": {}}, "text"])
def test_telegram_rejects_non_updates(payload: Any) -> None:
    with pytest.raises(telegram.MalformedUpdate):
        telegram.parse(payload, received_at=RECEIVED)


@pytest.mark.parametrize("raw", ["+62 812-3456-7890", "6281234567890", "081234567890"])
def test_normalise_phone(raw: str) -> None:
    assert phones.digits(raw) == "6281234567890"


@pytest.mark.parametrize(
    ("overrides", "kind", "mime"),
    [
        # Fonnte's `type` says image: trusted over a missing or odd extension.
        (
            {"type": "image", "extension": "", "url": "https://f.example/att/7f3a9c"},
            "photo",
            "image/jpeg",
        ),
        ({"type": "image", "extension": "bin", "filename": "x.bin"}, "photo", "image/jpeg"),
        # iPhone photos shared as files: the images service converts HEIC (pillow-heif).
        (
            {"type": "document", "extension": "heic", "filename": "IMG_0001.HEIC"},
            "photo",
            "image/heic",
        ),
        # A file of unknown type: downloaded, and its bytes decide.
        (
            {"type": "document", "extension": "", "url": "https://f.example/att/abc"},
            "document",
            None,
        ),
    ],
)
def test_fonnte_images_by_type_or_bytes(overrides: dict[str, Any], kind: str, mime: Any) -> None:
    message = fonnte.parse({**_load("fonnte", "image"), **overrides}, received_at=RECEIVED)
    assert message is not None and message.unsupported is None
    assert message.attachments[0].kind == kind and message.attachments[0].mime_type == mime


def test_fonnte_known_non_images_stay_unsupported() -> None:
    pdf = fonnte.parse(_load("fonnte", "document"), received_at=RECEIVED)
    video = fonnte.parse({**_load("fonnte", "video"), "extension": ""}, received_at=RECEIVED)
    assert pdf and pdf.unsupported == "document" and not pdf.attachments
    assert video and video.unsupported == "video" and not video.attachments
