"""Spreadsheet (CSV/XLSX) formula injection: one guard for every export.

A runner's name like ``=HYPERLINK(...)`` runs as a formula when the organiser opens the export.
Spreadsheets skip leading whitespace and invisible characters (zero-width, BOM, bidi marks) before
deciding, so the check looks past them; fullwidth signs are included because some locales fold them.
"""

from __future__ import annotations

import unicodedata

FORMULA_STARTS = frozenset("=+-@|%\uff1d\uff0b\uff0d\uff20")


def _first_visible(text: str) -> str:
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Zs"):
            continue
        return ch
    return ""


def neutralise(text: str) -> str:
    """``text`` prefixed with an apostrophe when a spreadsheet could read it as a formula."""
    if text[:1] in ("\t", "\r", "\n") or _first_visible(text) in FORMULA_STARTS:
        return "'" + text
    return text
