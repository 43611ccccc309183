"""Structured logging (structlog over stdlib). Log ids and kinds, never names, phones or texts.

Secrets that travel in URLs (the Fonnte webhook path secret, the Telegram bot token in Bot API
URLs) are replaced by ``***`` in every record of the libraries that log URLs, and in ours. Row values
that database errors quote (PostgreSQL's ``DETAIL:  Key (...)=(...)``, ``Failing row contains``,
SQLAlchemy's ``[parameters: ...]``) are replaced by ``***`` in messages and rendered tracebacks.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import structlog

from core.config import Settings, get_settings

# Loggers that write URLs or request lines; quiet by default and always redacted.
URL_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "uvicorn.error")
# transitions logs every state callback at INFO: one line per chat step drowns the server log.
QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "transitions")
# SQL echo prints bound values and result rows (names, phones, messages): never on via LOG_LEVEL.
DATA_LOGGERS = ("sqlalchemy.engine",)
MIN_SECRET_LENGTH = 6  # shorter values would redact ordinary words


class RedactSecrets(logging.Filter):
    """Replace known secrets with ``***`` in a record's message and arguments."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        kept = [s for s in secrets if len(s) >= MIN_SECRET_LENGTH]
        # Also as they appear percent-encoded in a URL (a bot token's ":" becomes "%3A").
        variants = {v for s in kept for v in (s, quote(s, safe=""), quote(s))}
        self.secrets = tuple(sorted(variants, key=len, reverse=True))

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            record.msg = self._scrub(record.msg)
            if isinstance(record.args, tuple):
                # Element-wise, so formatters that unpack args (uvicorn's access log) still work.
                record.args = tuple(self._scrub(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: self._scrub(v) for k, v in record.args.items()}
        return True

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, int | float) or value is None:
            return value
        text = value if isinstance(value, str) else str(value)
        if not any(secret in text for secret in self.secrets):
            return value
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text


# Database error texts that quote row values (names, phones, emails); constraint and column names stay.
KEY_VALUES = re.compile(
    r"(Key \(.*?\)=\()(?:.*(\) (?:already exists|is not present|is still referenced|conflicts with))"
    r"|.*)",  # "Key (event_id, email)=(1, a@b.c) already exists." and the FK/exclusion variants
)
DATA_PATTERNS = (
    (re.compile(r"(Failing row contains ).*"), r"\1(***)"),
    (re.compile(r"(\[parameters: ).*"), r"\1***]"),
    # 'invalid input syntax for type integer: "abc"', 'invalid input value for enum x: "abc"'
    (re.compile(r'(invalid input [^:\n]*: )".*"'), r'\1"***"'),
)


def redact_data(text: str) -> str:
    """Replace row values quoted by database errors with ``***``."""
    text = KEY_VALUES.sub(lambda m: f"{m[1]}***{m[2] or ')'}", text)
    for pattern, replacement in DATA_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactPersonalData(logging.Filter):
    """Redact database row values from a record's message, arguments and exception text.

    The traceback is rendered here and kept only as the redacted ``exc_text`` (``exc_info`` is
    cleared), so no formatter downstream can render the raw exception again.
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_data(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(self._scrub(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._scrub(v) for k, v in record.args.items()}
        if record.exc_info and record.exc_info[0] is not None:
            text = record.exc_text or self._formatter.formatException(record.exc_info)
            record.exc_text, record.exc_info = redact_data(text), None
        elif record.exc_text:
            record.exc_text = redact_data(record.exc_text)
        return True

    @staticmethod
    def _scrub(value: Any) -> Any:
        if isinstance(value, int | float) or value is None:
            return value
        text = value if isinstance(value, str) else str(value)
        redacted = redact_data(text)
        return value if redacted == text else redacted


def _exception_text(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog step: keep the redacted ``exc_text`` of a stdlib record as ``exception``."""
    record = event_dict.get("_record")
    if record is not None and record.exc_text and "exc_info" not in event_dict:
        event_dict.setdefault("exception", record.exc_text)
    return event_dict


def _redact_event(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog step: redact the event and the rendered exception of our own structlog calls."""
    for key in ("event", "exception"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = redact_data(event_dict[key])
    return event_dict


def secret_values(settings: Settings) -> list[str]:
    """The configured secrets that may appear in URLs or headers."""
    fields = (
        settings.telegram_bot_token,
        settings.telegram_webhook_secret,
        settings.fonnte_token,
        settings.fonnte_webhook_secret,
    )
    return [f.get_secret_value() for f in fields if f is not None and f.get_secret_value()]


def protect_logs(secrets: Iterable[str], handlers: Iterable[logging.Handler] = ()) -> None:
    """Quiet the URL-logging libraries and redact ``secrets`` in them and in ``handlers``.

    Database row values are redacted in ``handlers`` and in the root logger's current handlers
    too (a `dramatiq` worker process has installed its own by the time the broker is imported).
    """
    redact = RedactSecrets(secrets)
    targets: list[logging.Filterer] = [logging.getLogger(n) for n in URL_LOGGERS]
    for target in [*targets, *handlers]:
        for old in [f for f in target.filters if isinstance(f, RedactSecrets)]:
            target.removeFilter(old)  # settings may have changed since the last call
        target.addFilter(redact)
    for target in [*targets, *handlers, *logging.getLogger().handlers]:
        if not any(isinstance(f, RedactPersonalData) for f in target.filters):
            target.addFilter(RedactPersonalData())
    for name in (*QUIET_LOGGERS, *DATA_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(
    level: str = "INFO", *, json: bool = False, secrets: Iterable[str] | None = None
) -> None:
    """Route stdlib and structlog records through one structured renderer.

    ``secrets`` (default: the configured tokens) are redacted from every record it prints.
    Tracebacks are rendered as plain text before printing so database row values in them can be
    redacted (a pretty renderer would re-render the raw exception).
    """
    renderer = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.processors.format_exc_info,
                _redact_event,
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                renderer,
            ],
            foreign_pre_chain=[*shared, _exception_text],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    protect_logs(secret_values(get_settings()) if secrets is None else secrets, [handler])
