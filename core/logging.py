"""Structured logging (structlog over stdlib). Log ids and kinds, never names, phones or texts.

Secrets that travel in URLs (the Fonnte webhook path secret, the Telegram bot token in Bot API
URLs) are replaced by ``***`` in every record of the libraries that log URLs, and in ours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import structlog

from core.config import Settings, get_settings

# Loggers that write URLs or request lines; quiet by default and always redacted.
URL_LOGGERS = ("httpx", "httpcore", "uvicorn.access", "uvicorn.error")
QUIET_LOGGERS = ("httpx", "httpcore", "uvicorn.access")
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
    """Quiet the URL-logging libraries and redact ``secrets`` in them and in ``handlers``."""
    redact = RedactSecrets(secrets)
    targets: list[logging.Filterer] = [logging.getLogger(n) for n in URL_LOGGERS]
    for target in [*targets, *handlers]:
        for old in [f for f in target.filters if isinstance(f, RedactSecrets)]:
            target.removeFilter(old)  # settings may have changed since the last call
        target.addFilter(redact)
    for name in (*QUIET_LOGGERS, *DATA_LOGGERS):
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(
    level: str = "INFO", *, json: bool = False, secrets: Iterable[str] | None = None
) -> None:
    """Route stdlib and structlog records through one structured renderer.

    ``secrets`` (default: the configured tokens) are redacted from every record it prints.
    """
    renderer = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
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
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=shared,
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    protect_logs(secret_values(get_settings()) if secrets is None else secrets, [handler])
