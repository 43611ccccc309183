"""Email transport: send one outbox row (channel "email") over SMTP with its PNG attached.

SMTP_URL forms: smtp://host:port (plain), smtp://user:pass@host:587?starttls=1, smtps://host:465.
Stays free of the database; workers.delivery claims rows and records results around send().
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from core import media
from core.config import Settings
from core.errors import ChannelError, ChannelPermanent

TIMEOUT_SECONDS = 20


def build_message(settings: Settings, row: Any) -> EmailMessage:
    """Compose the email for an outbox row: subject from ``extra``, text body, PNG attachment."""
    message = EmailMessage()
    message["Subject"] = str((row.extra or {}).get("subject") or "")
    message["From"] = settings.smtp_from
    message["To"] = row.recipient
    # Derived from the row id so a re-send after a crash carries the same Message-ID.
    message["Message-ID"] = make_msgid(idstring=f"outbound-{row.id}", domain="funrun.local")
    message.set_content(row.text)
    if row.media_path:
        path = media.safe_path(row.media_path, settings)
        if path is None:
            raise ChannelPermanent(f"media file missing: outbound {row.id}")
        message.add_attachment(
            path.read_bytes(), maintype="image", subtype="png", filename="e-ticket.png"
        )
    return message


def _connect(url: str) -> smtplib.SMTP:
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            host, parts.port or 465, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=TIMEOUT_SECONDS)
        if options.get("starttls", ["0"])[0] in ("1", "true", "yes"):
            client.starttls(context=ssl.create_default_context())
    if parts.username:
        client.login(unquote(parts.username), unquote(parts.password or ""))
    return client


def send(settings: Settings, row: Any) -> str:
    """Send one email row; return its Message-ID.

    Raises:
        ChannelPermanent: no SMTP_URL, or the server refused the recipient for good.
        ChannelError: a transient failure (connection, 4xx); the dispatcher retries with backoff.
    """
    if not settings.smtp_url:
        raise ChannelPermanent("SMTP_URL is not set")
    message = build_message(settings, row)
    try:
        with _connect(settings.smtp_url) as client:
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            raise ChannelPermanent(f"recipient refused: {codes}") from exc
        raise ChannelError(f"recipient deferred: {codes}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"smtp: {type(exc).__name__}: {exc}") from exc
    return str(message["Message-ID"])
