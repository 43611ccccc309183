"""The Telegram parse as it was before 2026-12 (python-telegram-bot's Update.de_json), for comparison.

channels/telegram/inbound.py now reads the Update dict directly (the object tree was a tenth of
the webhook's event-loop time); tests/channels/test_telegram_parse_equivalence.py checks that every
body this version parsed still parses to the same message. Only the reading differs: the checks
around it (update id, well-typed result) are the module's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, Message, Update

from channels import wire
from channels.telegram.inbound import MAX_PHONE, SHAPE_ERRORS, UNSUPPORTED_KINDS, MalformedUpdate
from core import phones
from core.enums import Channel
from core.messages import Attachment, InboundMessage


def parse(payload: Mapping[str, Any], *, received_at: datetime) -> InboundMessage | None:
    if not isinstance(payload, Mapping) or not _is_id(payload.get("update_id")):
        raise MalformedUpdate("not an update")
    try:
        message = _from_update(payload, received_at)
    except SHAPE_ERRORS as exc:
        raise MalformedUpdate(type(exc).__name__) from exc
    if message is not None and not wire.well_typed(message):
        raise MalformedUpdate("wrong field types")
    return message


def _from_update(payload: Mapping[str, Any], received_at: datetime) -> InboundMessage | None:
    update = Update.de_json(dict(payload), None)
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
    return None


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**63


def _private_chat_id(message: Any) -> str | None:
    chat = getattr(message, "chat", None)
    if chat is None or chat.type != "private":
        return None
    if not _is_id(chat.id):
        raise MalformedUpdate("chat id")
    return str(chat.id)


def _from_callback(
    query: CallbackQuery, base: dict[str, Any], received_at: datetime
) -> InboundMessage | None:
    if query.message:
        chat_id = _private_chat_id(query.message)
    elif _is_id(query.from_user.id):
        chat_id = str(query.from_user.id)
    else:
        raise MalformedUpdate("user id")
    if chat_id is None:
        return None
    return InboundMessage(
        **base,
        chat_id=chat_id,
        sender_name=query.from_user.full_name,
        choice=str(query.data) if query.data is not None else None,
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
        phone = phones.digits(str(message.contact.phone_number or ""))
        fields["phone"] = phone if phone and len(phone) <= MAX_PHONE else None
    attachment, unsupported = _attachment(message)
    if attachment is not None:
        fields["attachments"] = (attachment,)
    fields["unsupported"] = unsupported
    if not (text or attachment or unsupported or fields.get("phone")):
        return None
    return InboundMessage(**fields)


def _command(text: str | None) -> tuple[str | None, str | None]:
    if not text or not text.startswith("/") or len(text) < 2:
        return None, None
    head, _, rest = text[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return (name or None), (rest.strip() or None)


def _attachment(message: Message) -> tuple[Attachment | None, str | None]:
    if message.photo:
        best = message.photo[-1]
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
