"""WhatsApp Cloud API webhook input: handshake, X-Hub-Signature-256, batch parsing (pure).

Meta batches: ``entry[] -> changes[] -> value.messages[]`` and ``value.statuses[]``; one POST may
carry several runners. Each message becomes its own InboundMessage, deduplicated by its ``wamid``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from core.config import Settings
from core.enums import Channel
from core.messages import Attachment, InboundMessage

log = logging.getLogger(__name__)

# Answered with the polite "text or a photo, please", as on the other channels.
UNSUPPORTED_TYPES = {"contacts", "location", "sticker", "audio", "video", "unsupported"}
# Nothing to answer: reactions to our messages, number changes, "welcome" requests, edits.
IGNORED_TYPES = {"reaction", "system", "request_welcome", "ephemeral", "order", "revoke"}
STATUSES = ("sent", "delivered", "read", "failed")


class MalformedPayload(ValueError):
    """The body is JSON but not a WhatsApp Business Account webhook."""


@dataclass(frozen=True, slots=True)
class Status:
    """One ``statuses[]`` item: what happened to a message we sent (by its wamid)."""

    message_id: str
    status: str
    recipient: str
    at: datetime
    error: str | None = None  # "131026 Message undeliverable" for failed ones


@dataclass(frozen=True, slots=True)
class Batch:
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)


def verify_handshake(mode: str | None, token: str | None, settings: Settings) -> bool:
    """Meta's GET subscription check: hub.mode=subscribe and our verify token (constant time)."""
    expected = settings.whatsapp_verify_token
    if mode != "subscribe" or expected is None or not token:
        return False
    return hmac.compare_digest(token.encode(), expected.get_secret_value().encode())


def verify_signature(body: bytes, header: str | None, settings: Settings) -> bool:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>``."""
    secret = settings.whatsapp_app_secret
    if secret is None or not header or not header.startswith("sha256="):
        return False
    digest = hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower().encode(), digest.encode())


def parse(payload: Any, *, received_at: datetime, phone_number_id: str | None = None) -> Batch:
    """Every message and status of one webhook body; a malformed item is skipped and logged.

    ``phone_number_id``: when set, changes for another number of the same app are ignored (a
    conversation belongs to the number the runner writes to).

    Raises:
        MalformedPayload: the body is not a ``whatsapp_business_account`` object with entries.
    """
    if not isinstance(payload, Mapping) or not isinstance(payload.get("entry"), list):
        raise MalformedPayload("no entry list")
    batch = Batch()
    for value in _values(payload, phone_number_id):
        names = _names(value.get("contacts"))
        for item in _list(value.get("messages")):
            message = _safe_message(item, names, received_at)
            if message is not None:
                batch.messages.append(message)
        for item in _list(value.get("statuses")):
            status = _status(item)
            if status is not None:
                batch.statuses.append(status)
    return batch


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _values(payload: Mapping[str, Any], phone_number_id: str | None) -> Iterator[Mapping[str, Any]]:
    for entry in _list(payload.get("entry")):
        if not isinstance(entry, Mapping):
            continue
        for change in _list(entry.get("changes")):
            if not isinstance(change, Mapping) or change.get("field", "messages") != "messages":
                continue
            value = change.get("value")
            if not isinstance(value, Mapping):
                continue
            number = str((value.get("metadata") or {}).get("phone_number_id") or "")
            if phone_number_id and number and number != phone_number_id:
                log.info("whatsapp change for another phone number ignored")
                continue
            yield value


def _names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    for contact in _list(contacts):
        if isinstance(contact, Mapping) and contact.get("wa_id"):
            name = str((contact.get("profile") or {}).get("name") or "").strip()
            names[str(contact["wa_id"])] = name
    return names


def _safe_message(item: Any, names: dict[str, str], received_at: datetime) -> InboundMessage | None:
    try:
        return _message(item, names, received_at)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        log.warning("malformed whatsapp message skipped: %s", type(exc).__name__)
        return None


def _message(
    item: Mapping[str, Any], names: dict[str, str], received_at: datetime
) -> InboundMessage | None:
    sender = "".join(ch for ch in str(item.get("from") or "") if ch.isdecimal())
    wamid = str(item.get("id") or "").strip()
    kind = str(item.get("type") or "").strip().lower()
    if not sender or not wamid:
        raise ValueError("no sender or id")
    if kind in IGNORED_TYPES:
        return None
    fields = _content(kind, item)
    if not any(fields.get(k) for k in ("text", "choice", "attachments", "unsupported")):
        fields["unsupported"] = kind or "empty"
    timestamp = _int(item.get("timestamp"))
    return InboundMessage(
        channel=Channel.WHATSAPP_CLOUD,
        external_id=wamid,
        chat_id=sender,
        sender_name=names.get(sender) or None,
        phone=sender,  # the wa_id is the number: the same participant as on Fonnte
        provider_message_id=wamid,
        sent_at=datetime.fromtimestamp(timestamp, UTC) if timestamp > 0 else received_at,
        received_at=received_at,
        raw=dict(item),
        **fields,
    )


def _content(kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """text / choice / attachments / unsupported for one message type."""
    body = item.get(kind) if isinstance(item.get(kind), Mapping) else {}
    if kind == "text":
        return {"text": str(body.get("body") or "").strip() or None}
    if kind == "interactive":
        reply = body.get("list_reply") or body.get("button_reply") or {}
        # The id we sent is the option's value: the engine reads it like a Telegram button.
        return {"choice": str(reply.get("id") or "").strip() or None}
    if kind == "button":  # a quick-reply button of a template
        payload = str(body.get("payload") or "").strip()
        text = str(body.get("text") or "").strip()
        return {"choice": payload or None, "text": None if payload else text or None}
    if kind in ("image", "document"):
        return _media(kind, body)
    if kind in UNSUPPORTED_TYPES:
        return {"unsupported": "location" if kind == "location" else kind}
    return {"unsupported": kind or "empty"}


def _media(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    caption = str(body.get("caption") or "").strip() or None
    mime = str(body.get("mime_type") or "").split(";")[0].strip().lower() or None
    media_id = str(body.get("id") or "").strip()
    if not media_id:
        raise ValueError("media without id")
    if kind == "document" and not (mime or "").startswith("image/"):
        return {"text": caption, "unsupported": "document"}
    attachment = Attachment(
        kind="photo" if kind == "image" else "document",
        ref=media_id,  # GET /{media-id} gives a short-lived URL (channels.whatsapp.outbound)
        unique_ref=str(body.get("sha256") or "") or None,
        filename=str(body.get("filename") or "") or None,
        mime_type=mime or ("image/jpeg" if kind == "image" else None),
    )
    return {"text": caption, "attachments": (attachment,)}


def _status(item: Any) -> Status | None:
    if not isinstance(item, Mapping):
        return None
    status = str(item.get("status") or "").lower()
    wamid = str(item.get("id") or "")
    if status not in STATUSES or not wamid:
        return None
    timestamp = _int(item.get("timestamp"))
    errors = [e for e in _list(item.get("errors")) if isinstance(e, Mapping)]
    error = _error_text(errors[0])[:500] if errors else None
    return Status(
        message_id=wamid,
        status=status,
        recipient=str(item.get("recipient_id") or ""),
        at=datetime.fromtimestamp(timestamp, UTC) if timestamp > 0 else datetime.now(UTC),
        error=error or None,
    )


def _int(value: Any) -> int:
    try:
        return int(str(value or 0))
    except ValueError:
        return 0


def _error_text(error: Mapping[str, Any]) -> str:
    """``131026 Message undeliverable: <details>`` (Meta's code, title and details)."""
    data = error.get("error_data")
    detail = data.get("details") if isinstance(data, Mapping) else None
    text = f"{error.get('code', '')} {error.get('title') or error.get('message') or ''}".strip()
    return f"{text}: {detail}" if detail else text
