"""Telegram webhook input: verify the secret header, parse an Update into an InboundMessage (pure)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from channels import wire
from core import phones
from core.config import Settings
from core.enums import Channel
from core.messages import Attachment, InboundMessage

# Message kinds we answer with "please reply with text or a photo".
UNSUPPORTED_KINDS = (
    "sticker",
    "voice",
    "video",
    "video_note",
    "audio",
    "animation",
    "location",
    "venue",
    "poll",
    "dice",
    "game",
    "story",
)


MAX_PHONE = 20  # conversations.phone; E.164 numbers have at most 15 digits


class MalformedUpdate(ValueError):
    """The body is JSON but not a Telegram Update."""


def verify(secret_header: str | None, settings: Settings) -> bool:
    """Check X-Telegram-Bot-Api-Secret-Token in constant time."""
    expected = settings.telegram_webhook_secret
    if expected is None or not secret_header:
        return False
    return hmac.compare_digest(secret_header.encode(), expected.get_secret_value().encode())


def parse(payload: Mapping[str, Any], *, received_at: datetime) -> InboundMessage | None:
    """Translate one Telegram Update into an InboundMessage; None for updates we ignore.

    Raises:
        MalformedUpdate: the payload is not an Update (no integer update_id, wrong shapes).
    """
    if not isinstance(payload, Mapping) or not _is_id(payload.get("update_id")):
        raise MalformedUpdate("not an update")
    try:
        message = _from_update(payload, received_at)
    except SHAPE_ERRORS as exc:
        raise MalformedUpdate(type(exc).__name__) from exc
    if message is not None and not wire.well_typed(message):
        raise MalformedUpdate("wrong field types")
    return message


# What a JSON object of the wrong shape raises in our reading of it: a number for a text, a huge
# date, a list for an object. Found by tests/fuzz/test_webhook_bodies.py; each was a 500 before.
SHAPE_ERRORS = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError, OSError)

# The Update is read as the dict it is, only along the path to an InboundMessage: building
# python-telegram-bot's object tree (Update.de_json) was a tenth of the webhook's time on the event
# loop. Each object on that path needs the fields its python-telegram-bot class requires, and every
# value is taken as that class keeps it (file ids as str, a date as an aware UTC datetime), so a
# body parses as it did with de_json (tests/channels/test_telegram_parse_equivalence.py). Objects
# off the path (entities, replies, a sticker's insides) are no longer checked: such a body is
# stored rather than refused, and it still yields a well-typed message or none.
_MESSAGE = frozenset(("message_id", "date"))  # no chat: python-telegram-bot kept None
_CHAT = frozenset(("id", "type"))
_USER = frozenset(("id", "first_name", "is_bot"))
_CALLBACK = frozenset(("id", "chat_instance"))
_PHOTO_SIZE = frozenset(("file_id", "file_unique_id", "width", "height"))
_DOCUMENT = frozenset(("file_id", "file_unique_id"))
_CONTACT = frozenset(("phone_number", "first_name"))


def _object(value: Any, required: frozenset[str]) -> dict[str, Any]:
    """An object on the reading path, with the fields python-telegram-bot requires of it."""
    if not isinstance(value, dict):
        raise MalformedUpdate("not an object")
    if not required <= value.keys():
        raise MalformedUpdate("missing field")
    return value


def _optional(value: Any, required: frozenset[str]) -> dict[str, Any] | None:
    return None if value is None else _object(value, required)


def _from_update(payload: Mapping[str, Any], received_at: datetime) -> InboundMessage | None:
    base = {
        "channel": Channel.TELEGRAM,
        "external_id": str(payload["update_id"]),
        "received_at": received_at,
        "raw": dict(payload),
    }
    query = _optional(payload.get("callback_query"), _CALLBACK)
    if query is not None:
        return _from_callback(query, base, received_at)
    message = _optional(payload.get("message"), _MESSAGE)
    if message is not None:
        return _from_message(message, base)
    return None  # edited messages, channel posts, member updates, ...


def _is_id(value: Any) -> bool:
    """Telegram ids are 64-bit integers; a longer one would overflow our id columns (fuzz)."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _private_chat_id(message: dict[str, Any]) -> str | None:
    chat = _optional(message.get("chat"), _CHAT)
    if chat is None or chat["type"] != "private":
        return None
    if not _is_id(chat["id"]):
        raise MalformedUpdate("chat id")
    return str(chat["id"])


def _full_name(user: dict[str, Any]) -> Any:
    """python-telegram-bot's User.full_name: first and (when given) last name; None without a first."""
    first, last = user["first_name"], user.get("last_name")
    if not first:
        return None
    return f"{first} {last}" if last else first


def _date(message: dict[str, Any]) -> datetime | None:
    value = message["date"]
    return None if value is None else datetime.fromtimestamp(value, UTC)


def _from_callback(
    query: dict[str, Any], base: dict[str, Any], received_at: datetime
) -> InboundMessage | None:
    message = _optional(query.get("message"), _MESSAGE)
    user = _optional(query.get("from"), _USER)
    if message is not None:
        _date(message)  # a date python-telegram-bot could not convert is a malformed update
        chat_id = _private_chat_id(message)
    elif user is not None and _is_id(user["id"]):
        chat_id = str(user["id"])
    else:
        raise MalformedUpdate("user id")
    if chat_id is None:
        return None
    if user is None:
        raise MalformedUpdate("no sender")
    data = query.get("data")
    return InboundMessage(
        **base,
        chat_id=chat_id,
        sender_name=_full_name(user),
        choice=str(data) if data is not None else None,
        callback_id=query["id"],
        sent_at=received_at,
    )


def _from_message(message: dict[str, Any], base: dict[str, Any]) -> InboundMessage | None:
    sent_at = _date(message)
    user = _optional(message.get("from"), _USER)
    chat_id = _private_chat_id(message)
    if chat_id is None:
        return None
    raw_text = message.get("text")
    text = (raw_text or message.get("caption") or "").strip() or None
    command, command_arg = _command(raw_text)
    fields: dict[str, Any] = {
        **base,
        "chat_id": chat_id,
        "sender_name": _full_name(user) if user is not None else None,
        "text": text,
        "command": command,
        "command_arg": command_arg,
        "provider_message_id": str(message["message_id"]),
        "sent_at": sent_at,
    }
    contact = _optional(message.get("contact"), _CONTACT)
    if contact is not None:
        phone = phones.digits(str(contact["phone_number"]))
        fields["phone"] = phone if phone and len(phone) <= MAX_PHONE else None
    attachment, unsupported = _attachment(message)
    if attachment is not None:
        fields["attachments"] = (attachment,)
    fields["unsupported"] = unsupported
    if not (text or attachment or unsupported or fields.get("phone")):
        return None  # service messages (pinned, joined, ...) carry nothing to answer
    return InboundMessage(**fields)


def _command(text: str | None) -> tuple[str | None, str | None]:
    """ "/start@funrun_bot 10K" -> ("start", "10K")."""
    if not text or not text.startswith("/") or len(text) < 2:
        return None, None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name or None), (rest.strip() or None)


def _attachment(message: dict[str, Any]) -> tuple[Attachment | None, str | None]:
    photo = message.get("photo")
    sizes = [] if photo is None else [_object(size, _PHOTO_SIZE) for size in photo]
    if sizes:
        best = sizes[-1]  # sizes come smallest first
        return (
            Attachment(
                kind="photo",
                ref=str(best["file_id"]),
                unique_ref=str(best["file_unique_id"]),
                mime_type="image/jpeg",
                size=best.get("file_size"),
            ),
            None,
        )
    doc = _optional(message.get("document"), _DOCUMENT)
    if doc is not None:
        mime_type = doc.get("mime_type")
        if not (mime_type or "").startswith("image/"):
            return None, "document"
        return (
            Attachment(
                kind="document",
                ref=str(doc["file_id"]),
                unique_ref=str(doc["file_unique_id"]),
                filename=doc.get("file_name"),
                mime_type=mime_type,
                size=doc.get("file_size"),
            ),
            None,
        )
    for kind in UNSUPPORTED_KINDS:
        value = message.get(kind)
        if value is not None:
            if not isinstance(value, dict):
                raise MalformedUpdate(kind)
            return None, kind
    return None, None
