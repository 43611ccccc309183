"""Global commands, recognised in any state, case-insensitive, with or without a leading slash."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.i18n import words
from core.messages import InboundMessage

NAMES = ("start", "status", "ticket", "cancel", "help", "language", "menu", "code", "stop",
         "subscribe", "privacy", "mydata", "deletedata")  # fmt: skip
NAMES += (
    "waitlist",
    "position",
    "leavewaitlist",
)  # ANTRE / ANTREAN / KELUAR ANTREAN (waitlist.toml)
# Commands of several words ("HAPUS DATA", "DELETE MY DATA"), matched with the spaces taken out.
JOINED = ("deletedata", "mydata", "privacy", "leavewaitlist")
# The command words live in core/texts/*/common.toml ([words.command]), every language at once.
_LOOKUP = {word: name for name in NAMES for word in words(f"words.command.{name}")}
# The idle menu (flow.menu) lists these commands as 1-6, in this order.
MENU = ("start", "status", "ticket", "help", "language", "cancel")


@dataclass(frozen=True)
class Command:
    name: str
    arg: str | None = None


def detect(message: InboundMessage) -> Command | None:
    """Return the global command in ``message``, or None when it is an ordinary answer."""
    if message.command:
        name = _LOOKUP.get(message.command.lower().lstrip("/"))
        return Command(name, message.command_arg or None) if name else None
    text = (message.text or "").strip()
    if not text or len(text) > 40:
        return None
    joined = _LOOKUP.get("".join(text.lstrip("/").lower().split()).rstrip("!.?"))
    if joined in JOINED:
        return Command(joined)
    head, _, rest = text.lstrip("/").partition(" ")
    word = head.lower().replace("-", "").replace("_", "").rstrip("!.?")
    name = _LOOKUP.get(word)
    rest = rest.strip()
    if name is None or (rest and not _valid_arg(name, rest)):
        return None
    if name == "language" and word in ("english", "inggris", "indonesia"):
        return Command(name, word)
    return Command(name, rest or None)


def from_menu(text: str) -> Command | None:
    """A reply "1".."6" (or "1.") to the numbered menu -> its command."""
    value = text.strip().rstrip(".")
    if value.isdecimal() and 1 <= int(value) <= len(MENU):
        return Command(MENU[int(value) - 1])
    return None


# An event slug then a category code (with a digit, or short capitals: 10K, HM), never two words
# of a name.
_START_LINK = re.compile(r"[A-Za-z0-9-]{2,40} (?:[A-Z]{1,4}|[A-Za-z]*[0-9][A-Za-z0-9]*)")


def _valid_arg(name: str, rest: str) -> bool:
    # A runner named "Start Rahayu" must not restart the flow: only short, code-like arguments count.
    if name == "start":  # "DAFTAR 10K", or a start link's "DAFTAR <event-slug> 10K"
        return len(rest) <= 12 and " " not in rest or _START_LINK.fullmatch(rest) is not None
    if name == "waitlist":  # ANTRE 10K: one category code or jersey size
        return len(rest) <= 12 and " " not in rest
    if name == "code":  # KODE ABC123: one code-like word
        return len(rest) <= 40 and " " not in rest
    if name == "language":
        return rest.lower() in ("en", "id", "english", "indonesia", "inggris", "eng", "ind")
    return False


def language_from(arg: str | None, current: str) -> str:
    """Resolve BAHASA's argument: "en"/"english"/"inggris" or "id"/"indonesia"; bare toggles."""
    value = (arg or "").strip().lower()
    if value in ("en", "english", "inggris", "eng"):
        return "en"
    if value in ("id", "indonesia", "indonesian", "bahasa", "ind"):
        return "id"
    return "en" if current == "id" else "id"
