"""Telegram webhook input: verify the secret header, parse an Update into an InboundMessage (pure)."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, Message, Update

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
    if not isinstance(payload, Mapping) or not isinstance(payload.get("update_id"), int):
        raise MalformedUpdate("not an update")
    try:
        update = Update.de_json(dict(payload), None)
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        raise MalformedUpdate(type(exc).__name__) from exc
    base = {
        "channel": Channel.TELEGRAM,
        "external_id": str(update.update_id),
        "received_at": received_at,
        "raw": dict(payload),
    }
    if update.callback_query is not None:
        return _from_callback(update.callback_query, base, received_at)
    if update.message is not None:
        return _from_message(update.message, base)
    return None  # edited messages, channel posts, member updates, ...


def _private_chat_id(message: Any) -> str | None:
    chat = getattr(message, "chat", None)
    if chat is None or chat.type != "private":
        return None
    return str(chat.id)


def _from_callback(
    query: CallbackQuery, base: dict[str, Any], received_at: datetime
) -> InboundMessage | None:
    chat_id = _private_chat_id(query.message) if query.message else str(query.from_user.id)
    if chat_id is None:
        return None
    return InboundMessage(
        **base,
        chat_id=chat_id,
        sender_name=query.from_user.full_name,
        choice=query.data,
        callback_id=query.id,
        sent_at=received_at,
    )


def _from_message(message: Message, base: dict[str, Any]) -> InboundMessage | None:
    chat_id = _private_chat_id(message)
    if chat_id is None:
        return None
    text = (message.text or message.caption or "").strip() or None
    command, command_arg = _command(message.text)
    fields: dict[str, Any] = {
        **base,
        "chat_id": chat_id,
        "sender_name": message.from_user.full_name if message.from_user else None,
        "text": text,
        "command": command,
        "command_arg": command_arg,
        "provider_message_id": str(message.message_id),
        "sent_at": message.date,
    }
    if message.contact is not None:
        fields["phone"] = phones.digits(message.contact.phone_number)
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


def _attachment(message: Message) -> tuple[Attachment | None, str | None]:
    if message.photo:
        best = message.photo[-1]  # sizes come smallest first
        return (
            Attachment(
                kind="photo",
                ref=best.file_id,
                unique_ref=best.file_unique_id,
                mime_type="image/jpeg",
                size=best.file_size,
            ),
            None,
        )
    doc = message.document
    if doc is not None:
        if not (doc.mime_type or "").startswith("image/"):
            return None, "document"
        return (
            Attachment(
                kind="document",
                ref=doc.file_id,
                unique_ref=doc.file_unique_id,
                filename=doc.file_name,
                mime_type=doc.mime_type,
                size=doc.file_size,
            ),
            None,
        )
    for kind in UNSUPPORTED_KINDS:
        if getattr(message, kind, None):
            return None, kind
    return None, None
