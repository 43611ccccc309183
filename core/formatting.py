"""Indonesian-style formatting of money, dates and phone numbers."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

DAYS = {
    "id": ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
MONTHS = {
    "id": ["Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"],
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
}
ZONE_ABBR = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Jayapura": "WIT",
}


# Chat text marks bold with *asterisks* (WhatsApp style; the Telegram sender turns them into <b>).
# A value filled into a text (a runner's name, answer, or an organiser's field) must never add
# markup: its asterisks become this look-alike, which neither channel reads as bold.
VALUE_ASTERISK = "\u2217"  # ∗ ASTERISK OPERATOR


def chat_value(value: object) -> str:
    """``value`` as shown inside chat text: literal, never bold (``*a*`` reads as ``∗a∗``)."""
    return str(value).replace("*", VALUE_ASTERISK)


def rupiah(amount: int | None, language: str = "id") -> str:
    """Format 150123 as ``Rp150.123`` (Indonesian) or ``Rp150,123`` (English, like its other numbers)."""
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    text = f"{sign}Rp{abs(int(amount)):,}"
    return text if language == "en" else text.replace(",", ".")


def format_number(value: float | None, language: str = "id") -> str:
    """Format 2000 as ``2.000`` and 21.1 as ``21,1`` (Indonesian); ``2,000`` and ``21.1`` in English."""
    if value is None:
        return "-"
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,}"
    if language == "en":
        return text
    return text.translate(str.maketrans({",": ".", ".": ","}))


def format_date(value: date, language: str = "id") -> str:
    """Format a date as ``Sabtu, 29 Nov 2026``."""
    lang = language if language in DAYS else "id"
    return (
        f"{DAYS[lang][value.weekday()]}, {value.day} {MONTHS[lang][value.month - 1]} {value.year}"
    )


def format_datetime(value: datetime, language: str = "id", tz: str = "Asia/Jakarta") -> str:
    """Format an aware datetime in the event's zone: ``Sabtu, 29 Nov 2026 14:00 WIB``."""
    local = value.astimezone(ZoneInfo(tz))
    abbr = ZONE_ABBR.get(tz) or local.strftime("%Z")
    return f"{format_date(local.date(), language)} {local:%H:%M} {abbr}"


# A cell starting with one of these runs as a formula (or is shifted into one) when an organiser
# opens an export in a spreadsheet: CSV injection. Tab and carriage return count too.
# Spreadsheets skip leading whitespace and invisible characters (zero-width, BOM, bidi marks) before
# deciding a cell is a formula, so the check looks past them; fullwidth signs are folded by some.
FORMULA_STARTS = frozenset("=+-@|%\uff1d\uff0b\uff0d\uff20")


def _first_visible(text: str) -> str:
    for ch in text:
        if not (ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs")):
            return ch
    return ""


def spreadsheet_safe(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (the one CSV/XLSX cell escaper)."""
    if text[:1] in ("\t", "\r", "\n") or _first_visible(text) in FORMULA_STARTS:
        return "'" + text
    return text
