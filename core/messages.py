"""Channel-neutral message types: adapters build InboundMessage, flows produce Reply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from typing import Any, Literal

from core.enums import Channel

# Reply.kind of the row that acknowledges a tapped Telegram button (answerCallbackQuery, no text).
CALLBACK_ANSWER = "callback_answer"


def without_nul(value: Any) -> Any:
    """Return ``value`` with U+0000 removed from every string in it (JSON-like data)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, Mapping):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(without_nul(v) for v in value)
    return value


def holds_nul(value: Any) -> bool:
    """Whether ``without_nul`` would change anything in ``value``: a quick walk, nothing is built."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if holds_nul(key) or holds_nul(item):
                return True
        return False
    if kind is str:
        return "\x00" in value
    if value is None or kind is int or kind is bool or kind is float:
        return False
    if kind is list or kind is tuple:
        for item in value:
            if holds_nul(item):
                return True
        return False
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, Mapping | list | tuple)  # another container: let without_nul walk it


@dataclass(frozen=True, slots=True)
class Attachment:
    """An image the runner sent. ``stored_path`` is set once it is downloaded to private storage."""

    kind: Literal["photo", "document"]
    ref: str  # Telegram file_id, or Fonnte download URL
    unique_ref: str | None = None  # Telegram file_unique_id (duplicate-screenshot detection)
    filename: str | None = None
    mime_type: str | None = None
    size: int | None = None
    stored_path: str | None = None  # relative to MEDIA_DIR, after download
    error: str | None = None  # why the download was refused (e.g. "too_large")


@dataclass(frozen=True, slots=True)
class InboundMessage:
    channel: Channel
    external_id: str  # dedupe key: Telegram update_id; Fonnte inboxid if > 0, else a hash
    chat_id: str  # where replies go: Telegram chat id; WhatsApp number "628..."
    sender_name: str | None = None
    phone: str | None = None  # known phone: the WhatsApp sender, or a shared Telegram contact
    text: str | None = None  # stripped message text or caption
    command: str | None = None  # Telegram "/start 10K" -> "start"
    command_arg: str | None = None  # Telegram "/start 10K" -> "10K" (deep-link payload)
    choice: str | None = None  # Telegram callback_data
    callback_id: str | None = None  # Telegram callback_query id (to answer it)
    unsupported: str | None = None  # "sticker", "voice", "video", "location", ...
    attachments: tuple[Attachment, ...] = ()
    provider_message_id: str | None = None
    sent_at: datetime | None = None  # when the runner sent it (provider's time when it gives one)
    received_at: datetime | None = None  # when our webhook received it
    device: str | None = None  # Fonnte: the number (device) the runner wrote to; replies go from it
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # Any client can send U+0000, which PostgreSQL text and JSONB refuse: the delivery could never
        # be stored (the webhook would answer 503 and the provider retry it for ever). Nobody means it.
        for name in _MESSAGE_FIELDS:
            value = getattr(self, name)
            if name == "attachments":
                if not any(holds_nul(_attachment_json(a)) for a in value):
                    continue
                cleaned: Any = tuple(Attachment(**without_nul(_attachment_json(a))) for a in value)
            elif holds_nul(value):
                cleaned = without_nul(value)
            else:
                continue
            if cleaned != value:
                object.__setattr__(self, name, cleaned)

    def to_json(self) -> dict[str, Any]:
        """Serialise for storage on the inbound row (raw payload is stored separately)."""
        # Not asdict(self): it deep-copies the raw payload only to drop it (a webhook's hot path).
        data = {name: getattr(self, name) for name in _MESSAGE_FIELDS if name != "raw"}
        data["attachments"] = tuple(_attachment_json(a) for a in self.attachments)
        data["channel"] = self.channel.value
        for name in _TIMES:
            moment = getattr(self, name)
            data[name] = moment.isoformat() if moment else None
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> InboundMessage:
        values = dict(data)
        values["channel"] = Channel(values["channel"])
        values["attachments"] = tuple(Attachment(**a) for a in values.get("attachments") or ())
        for name in _TIMES:
            moment = values.get(name)
            values[name] = datetime.fromisoformat(moment) if moment else None
        return cls(**values)


_TIMES = ("sent_at", "received_at")
# dataclasses.fields() and asdict() walk the class's metadata on every call (the webhook's hot path).
_MESSAGE_FIELDS = tuple(f.name for f in fields(InboundMessage))
_ATTACHMENT_FIELDS = tuple(f.name for f in fields(Attachment))


def _attachment_json(attachment: Attachment) -> dict[str, Any]:
    """asdict(attachment): every field is a scalar, so no deep copy is needed."""
    return {name: getattr(attachment, name) for name in _ATTACHMENT_FIELDS}


@dataclass(frozen=True, slots=True)
class Choice:
    """One option offered to the runner: shown as a button on Telegram, a numbered line on WhatsApp."""

    label: str
    value: str
    request_contact: bool = False
    short: str = ""  # the button's label where buttons are narrow (Telegram); label when empty


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the runner. ``text`` uses *bold* (WhatsApp style); senders convert per channel."""

    text: str
    choices: tuple[Choice, ...] = ()
    inline: bool = False  # Telegram: inline buttons instead of a reply keyboard
    image_path: str | None = None  # relative to MEDIA_DIR
    kind: str = "reply"

    def to_json(self) -> dict[str, Any]:
        return {
            "choices": [asdict(c) for c in self.choices],
            "inline": self.inline,
        }
