"""Strict JSON for webhook bodies: what json.loads accepts but our storage or parsers cannot.

Found by tests/fuzz/test_webhook_bodies.py: Python's json module reads deeply nested arrays until
RecursionError (a 500), and reads ``NaN``, ``Infinity``, ``1e400`` and lone surrogates (``"\\ud800"``)
that PostgreSQL's json type then refuses (a 503, which providers retry for ever). Every such body is
malformed here, the way any other undecodable body is.
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

from core.messages import InboundMessage

MAX_DEPTH = 32  # a Telegram Update nests 6 levels deep; Fonnte's payload is flat


class MalformedBody(ValueError):
    """The body is not JSON we can store and parse."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise MalformedBody("number out of range")
    return value


def _no_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not JSON")


def loads(body: bytes | str) -> Any:
    """Decode a webhook body; raises MalformedBody (a ValueError) for anything unusable."""
    try:
        value = json.loads(body, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError as exc:
        raise MalformedBody("nested too deeply") from exc
    except MalformedBody:
        raise
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, int digit limit
        raise MalformedBody(type(exc).__name__) from exc
    check(value)
    return value


def check(value: Any, depth: int = 0) -> None:
    """Refuse nesting beyond MAX_DEPTH and strings that are not valid Unicode text."""
    if depth > MAX_DEPTH:
        raise MalformedBody("nested too deeply")
    if isinstance(value, str):
        _check_text(value)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            check(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check(item, depth + 1)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate, written as a \ud800 escape
        raise MalformedBody("not Unicode text") from exc


_TEXT_FIELDS = (
    *("external_id", "chat_id", "sender_name", "phone", "text", "command", "command_arg"),
    *("choice", "callback_id", "unsupported", "provider_message_id"),
)
_ATTACHMENT_TEXT = ("ref", "unique_ref", "filename", "mime_type")


def well_typed(message: InboundMessage) -> bool:
    """Whether every field holds the type the inbox and flows expect.

    Provider libraries do not check JSON types (python-telegram-bot's de_json keeps a number where a
    name belongs), so a well-formed body of the wrong shape would fail later, inside the store.
    """
    if not all(_optional(getattr(message, name), str) for name in _TEXT_FIELDS):
        return False
    for attachment in message.attachments:
        if not all(_optional(getattr(attachment, name), str) for name in _ATTACHMENT_TEXT):
            return False
        if not _optional(attachment.size, int):
            return False
    if not _optional(message.sent_at, datetime):
        return False
    return bool(message.chat_id) and bool(message.external_id)


def _optional(value: Any, kind: type) -> bool:
    return value is None or (isinstance(value, kind) and not isinstance(value, bool))
