"""The runner-facing text catalogue: one TOML file per area and language under core/texts/.

Texts are Jinja templates rendered with autoescape off: they are chat text, not HTML. Only the
template's own *asterisks* are markup: every string a ``{{ value }}`` puts in has its asterisks
replaced by a look-alike (core.formatting.chat_value), so a runner called ``*Budi*`` is not bold on
either channel. The Telegram sender escapes the rest for HTML parse mode.
Organisers can override any key per language (notification_templates table): t() prefers an
override, which core.messaging.texts.refresh_overrides loads into this module's process cache
(this module itself never touches the database). An override that fails to render falls back to
the catalogue text, so a bad edit never breaks a reply.
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, Template, TemplateError, meta, pass_context

from core.errors import ServiceError
from core.formatting import chat_value, format_date, format_datetime, rupiah

TEXTS_DIR = Path(__file__).parent / "texts"
LANGUAGES = ("id", "en")


def _finalize(value: Any) -> Any:
    """Applied to every ``{{ expression }}``: filled-in strings carry no *bold* markup."""
    return chat_value(value) if isinstance(value, str) else value


_env = Environment(
    autoescape=False,
    undefined=StrictUndefined,
    keep_trailing_newline=False,
    finalize=_finalize,
)


@pass_context
def _rupiah_filter(context: Any, amount: int | None, language: str | None = None) -> str:
    """``{{ amount|rupiah }}`` in the text's own language (t() passes ``lang``): one number format."""
    return rupiah(amount, language or context.get("lang") or "id")


_env.filters["rupiah"] = _rupiah_filter
_env.filters["date"] = format_date
_env.filters["datetime"] = format_datetime
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Overrides:
    """Compiled organiser overrides keyed by (key, language); ``loaded_at`` None means stale."""

    templates: Mapping[tuple[str, str], Template] = field(default_factory=dict)
    loaded_at: datetime | None = None


# Process-wide and replaced as a whole (never mutated), so worker threads read it without a lock.
# core.messaging.texts fills it from the database; this module never queries anything itself.
_overrides = _Overrides()


@cache
def _merged(language: str) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted((TEXTS_DIR / language).glob("*.toml")):
        with path.open("rb") as fh:
            _flatten(tomllib.load(fh), "", merged)
    return merged


@cache
def catalogue(language: str) -> dict[str, str]:
    """Return every text of one language, merged from all area files (flat dotted keys)."""
    return {k: v for k, v in _merged(language).items() if isinstance(v, str)}


def _flatten(data: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten(value, full + ".", out)
        elif isinstance(value, list):
            out[full] = tuple(str(v) for v in value)  # a word list (see words())
        else:
            out[full] = str(value)


@cache
def words(key: str) -> frozenset[str]:
    """The words a runner may type for ``key`` (e.g. "words.yes"), in every language, lower-case.

    Runners mix languages ("yes" in an Indonesian chat), so every language's list counts.
    """
    found = [_merged(lang).get(key) for lang in LANGUAGES]
    lists = [w for w in found if isinstance(w, tuple)]
    if not lists:
        raise KeyError(f"missing word list {key!r}")
    return frozenset(w.strip().lower() for words_ in lists for w in words_)


def t(
    key: str, language: str = "id", overrides: Mapping[str, str] | None = None, **params: Any
) -> str:
    """Render text ``key`` in ``language``: organiser override, else catalogue, else Indonesian."""
    lang = language if language in LANGUAGES else "id"
    params.setdefault("lang", lang)
    explicit = (overrides or {}).get(key)
    if not explicit:
        rendered = _render_override(key, lang, params)
        if rendered is not None:
            return rendered
    source = explicit or catalogue(lang).get(key) or catalogue("id").get(key)
    if source is None:
        raise KeyError(f"missing text {key!r}")
    if "{" not in source and "\r" not in source:  # plain text: Jinja would give it back as is
        return source.strip()
    return _compiled(source).render(**params).strip()


@lru_cache(maxsize=4096)
def _compiled(source: str) -> Template:
    """A catalogue text compiled once per process (compiling costs ~100x a render).

    Jinja caches only templates loaded by name; ``from_string`` compiles afresh on every call, which
    made template compilation the workers' largest cost per message. Templates render thread-safely.
    """
    return _env.from_string(source)


def _render_override(key: str, lang: str, params: dict[str, Any]) -> str | None:
    template = _overrides.templates.get((key, lang))
    if template is None:
        return None
    try:
        return template.render(**params).strip()
    except Exception:  # noqa: BLE001  (an organiser's text must never break a reply)
        log.warning("text override %s/%s failed to render; using the catalogue text", key, lang)
        return None


def compile_text(source: str) -> Template:
    """Compile a text with the catalogue's environment; raises jinja2.TemplateSyntaxError."""
    return _env.from_string(source)


def set_overrides(
    bodies: Mapping[tuple[str, str], str], *, loaded_at: datetime | None
) -> list[tuple[str, str]]:
    """Install organiser overrides for this process; return the (key, language) pairs skipped.

    A body that does not compile is skipped, so its catalogue text is used instead.
    """
    compiled: dict[tuple[str, str], Template] = {}
    skipped: list[tuple[str, str]] = []
    for pair, body in bodies.items():
        try:
            compiled[pair] = compile_text(body)
        except TemplateError:
            skipped.append(pair)
    global _overrides
    _overrides = _Overrides(compiled, loaded_at)
    return skipped


def overrides_loaded_at() -> datetime | None:
    """When the overrides in use were loaded; None when they must be reloaded."""
    return _overrides.loaded_at


def overrides_token() -> object:
    """An opaque value that changes whenever the overrides in use change (for callers' caches)."""
    return _overrides


def invalidate_overrides() -> None:
    """Mark the overrides stale (after an organiser saved one); the next refresh reloads them."""
    global _overrides
    _overrides = _Overrides(_overrides.templates, None)


def text_variables(source: str) -> frozenset[str]:
    """Names a text reads from its parameters (``number`` in ``{{ number }}``)."""
    return frozenset(meta.find_undeclared_variables(_env.parse(source)))


def placeholders(key: str) -> frozenset[str]:
    """Names the catalogue text ``key`` uses in either language."""
    names: set[str] = set()
    for lang in LANGUAGES:
        source = catalogue(lang).get(key)
        if source is not None:
            names |= text_variables(source)
    return frozenset(names)


def has(key: str, language: str = "id") -> bool:
    return key in catalogue(language)


def staff_message(exc: ServiceError) -> str:
    """English text of a service error for staff pages: the service's own, else the catalogue's."""
    if str(exc) != exc.key:
        return str(exc)  # e.g. RangeExhausted says which range to extend
    try:
        return t(exc.key, "en", **exc.params)
    except (KeyError, TemplateError):
        return "The registration changed meanwhile; reload the page and try again."
