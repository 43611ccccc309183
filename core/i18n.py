"""The runner-facing text catalogue: one TOML file per area and language under core/texts/.

Texts are Jinja templates rendered with autoescape off: they are chat text, not HTML. Values typed by
runners are escaped by the Telegram sender (HTML parse mode) when it converts *bold* markup.
Organisers can override any key per language (notification_templates table).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from core.formatting import format_date, format_datetime, rupiah

TEXTS_DIR = Path(__file__).parent / "texts"
LANGUAGES = ("id", "en")

_env = Environment(autoescape=False, undefined=StrictUndefined, keep_trailing_newline=False)
_env.filters["rupiah"] = rupiah
_env.filters["date"] = format_date
_env.filters["datetime"] = format_datetime


@cache
def catalogue(language: str) -> dict[str, str]:
    """Return every key of one language, merged from all area files (flat dotted keys)."""
    merged: dict[str, str] = {}
    for path in sorted((TEXTS_DIR / language).glob("*.toml")):
        with path.open("rb") as fh:
            _flatten(tomllib.load(fh), "", merged)
    return merged


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, str]) -> None:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, full + ".", out)
        else:
            out[full] = str(value)


def t(
    key: str, language: str = "id", overrides: Mapping[str, str] | None = None, **params: Any
) -> str:
    """Render catalogue text ``key`` in ``language`` (falls back to Indonesian)."""
    lang = language if language in LANGUAGES else "id"
    source = (overrides or {}).get(key) or catalogue(lang).get(key) or catalogue("id").get(key)
    if source is None:
        raise KeyError(f"missing text {key!r}")
    params.setdefault("lang", lang)
    return _env.from_string(source).render(**params).strip()


def has(key: str, language: str = "id") -> bool:
    return key in catalogue(language)
