"""Phone numbers: one normaliser, two stored forms.

Where each form is stored:
- ``Conversation.phone`` and a WhatsApp ``chat_id``: digits only, country code first
  (``6281234567890``), which is what Fonnte sends and expects; ``digits()`` makes it.
- ``Participant.phone``: E.164 (``+6281234567890``), the number the runner gave in the flow,
  checked to be an Indonesian mobile; ``to_e164()`` makes it from ``digits()``.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


def digits(raw: str) -> str:
    """Digits only, Indonesian style: "+62 812-3456" -> "628123456"; "0812..." -> "62812..."."""
    number = "".join(ch for ch in raw if ch.isdecimal())
    if number.startswith("0"):
        number = "62" + number[1:]
    return number


def to_e164(text: str) -> str | None:
    """0812…, +62812…, 62812…, 812… -> +62812… (None when it is not an Indonesian mobile)."""
    cleaned = _SEPARATORS.sub("", text.strip()).removeprefix("+")
    if not cleaned.isdecimal():
        return None
    number = digits(cleaned)
    if number.startswith("8"):
        number = "62" + number
    if not number.startswith("628") or not 10 <= len(number) <= 15:
        return None
    return "+" + number
