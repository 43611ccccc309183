"""Fonnte (WhatsApp) webhook input: verify the path secret, parse the flat payload (pure).

Field notes in shared/channels.md (the channels guide) §1: `text` is button text ("non-button message" for ordinary
chats) and never the body; `inboxid` is 0 unless the device inbox is enabled.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.config import Settings
from core.enums import Channel
from core.messages import Attachment, InboundMessage, without_nul

IMAGE_EXTENSIONS = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    # iPhone photos shared as files; converted by the images service (pillow-heif).
    "heic": "image/heic",
    "heif": "image/heif",
}
# Files that are certainly not screenshots. Anything else sent as a file (no or an odd extension)
# is downloaded and its bytes decide: core.media opens it with Pillow and answers
# clearly when it is not an image.
NON_IMAGE_EXTENSIONS = {
    *("pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "zip", "rar", "apk"),
    *("mp4", "mov", "3gp", "mp3", "m4a", "ogg", "opus", "aac", "wav", "vcf"),
}
# Placeholders Fonnte puts into `message` for media without a caption.
PLACEHOLDERS = {"non-text message", "non-button message"}
UNSUPPORTED_TYPES = {"sticker", "audio", "voice", "ptt", "video", "location", "document", "vcard"}


MAX_SENDER = 20  # conversations.phone; a WhatsApp number has at most 15 digits


class MalformedPayload(ValueError):
    """The body is not a Fonnte message payload."""


def verify(path_secret: str, settings: Settings) -> bool:
    """Compare the webhook path segment with FONNTE_WEBHOOK_SECRET in constant time."""
    expected = settings.fonnte_webhook_secret
    if expected is None:
        return False
    return hmac.compare_digest(path_secret.encode(), expected.get_secret_value().encode())


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: int(float("inf"))
        return 0


def _sent_at(timestamp: int, received_at: datetime) -> datetime:
    """The provider's send time; the receipt time when it is absent or out of datetime's range."""
    if timestamp <= 0:
        return received_at
    try:
        return datetime.fromtimestamp(timestamp, UTC)
    except (ValueError, OverflowError, OSError):  # found by tests/fuzz: a 500 before
        return received_at


def parse(payload: Mapping[str, Any], *, received_at: datetime) -> InboundMessage | None:
    """Translate one Fonnte webhook body into an InboundMessage; None for what we ignore.

    Raises:
        MalformedPayload: there is no sender.
    """
    if not isinstance(payload, Mapping):
        raise MalformedPayload("not an object")
    # U+0000 first: InboundMessage drops it, and a sender of only NULs would become an empty chat.
    sender = without_nul(str(payload.get("sender") or payload.get("pengirim") or "")).strip()
    if not sender:
        raise MalformedPayload("no sender")
    if _truthy(payload.get("isgroup")) or sender.endswith("@g.us") or _truthy(payload.get("quick")):
        return None  # groups and the device's own self-chat
    if len(sender) > MAX_SENDER:
        raise MalformedPayload("sender too long")
    text = str(payload.get("message") or payload.get("pesan") or "").strip()
    if text.lower() in PLACEHOLDERS:
        text = ""
    attachment, unsupported = _media(payload)
    if not (text or attachment or unsupported):
        unsupported = str(payload.get("type") or "empty")
    timestamp = _int(payload.get("timestamp"))
    inbox_id = _int(payload.get("inboxid"))
    return InboundMessage(
        channel=Channel.WHATSAPP,
        external_id=dedupe_key(payload, sender=sender, text=text, received_at=received_at),
        chat_id=sender,
        sender_name=str(payload.get("name") or "").strip() or None,
        phone=sender,
        text=text or None,
        unsupported=unsupported,
        attachments=(attachment,) if attachment else (),
        provider_message_id=str(inbox_id) if inbox_id > 0 else None,
        sent_at=_sent_at(timestamp, received_at),
        received_at=received_at,
        device=_device(payload),
        raw=dict(payload),
    )


def _device(payload: Mapping[str, Any]) -> str | None:
    """Our number the runner wrote to (digits only; None when absent or implausible)."""
    digits = "".join(ch for ch in str(payload.get("device") or "") if ch.isdecimal())
    return digits if 6 <= len(digits) <= 20 else None


def _media(payload: Mapping[str, Any]) -> tuple[Attachment | None, str | None]:
    url = str(payload.get("url") or "").strip()
    kind = str(payload.get("type") or "").strip().lower()
    if url:
        return _url_media(payload, url, kind)
    if str(payload.get("location") or "").strip():
        return None, "location"
    if kind in UNSUPPORTED_TYPES:
        return None, kind
    return None, None


def _url_media(
    payload: Mapping[str, Any], url: str, kind: str
) -> tuple[Attachment | None, str | None]:
    """An image by its type or extension; an unknown file to be sniffed; else unsupported."""
    extension = str(payload.get("extension") or "").strip().lower().lstrip(".")
    if not extension:
        last = url.rsplit("?", 1)[0].rsplit("/", 1)[-1]
        extension = last.rsplit(".", 1)[-1].lower() if "." in last else ""
    filename = str(payload.get("filename") or "").strip() or None
    if kind == "image" or extension in IMAGE_EXTENSIONS:
        mime = IMAGE_EXTENSIONS.get(extension, "image/jpeg" if kind == "image" else None)
        return Attachment(kind="photo", ref=url, filename=filename, mime_type=mime), None
    if kind in UNSUPPORTED_TYPES - {"document"}:
        return None, kind
    if extension in NON_IMAGE_EXTENSIONS:
        return None, "document"
    # A file of unknown type: download it; the stored bytes are checked, never the name.
    return Attachment(kind="document", ref=url, filename=filename, mime_type=None), None


def dedupe_key(payload: Mapping[str, Any], *, sender: str, text: str, received_at: datetime) -> str:
    """``inbox:<inboxid>`` when the device inbox is on, else a hash of the message's identity.

    Without `timestamp` (older accounts) the receipt time is hashed too: a runner answering "1" twice
    must not be taken for a retry, so such deliveries are effectively not deduplicated.
    """
    inbox_id = _int(payload.get("inboxid"))
    if inbox_id > 0:
        return f"inbox:{inbox_id}"
    timestamp = _int(payload.get("timestamp"))
    moment = str(timestamp) if timestamp > 0 else received_at.isoformat()
    parts = [str(payload.get("device") or ""), sender, moment, text, str(payload.get("url") or "")]
    return "h:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]
