"""deliver(): send one outbound row through its channel's sender; fetch inbound attachments.

Stays free of the database: workers claim rows and record results around these calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from channels import mail
from channels.fonnte import outbound as fonnte
from channels.media import DownloadError, NotStored, TooLarge, new_relative_path
from channels.telegram import outbound as telegram
from channels.whatsapp import outbound as whatsapp_cloud
from core import media
from core.config import Settings
from core.enums import Channel
from core.errors import ChannelPermanent, StorageUnavailable
from core.messages import CALLBACK_ANSWER, Attachment

__all__ = [
    "CALLBACK_ANSWER",
    "DownloadError",
    "NotStored",
    "TooLarge",
    "deliver",
    "fetch_attachment",
    "new_client",
]


def new_client() -> httpx.Client:
    """One client per worker process: pooled connections, explicit timeouts."""
    return httpx.Client(timeout=httpx.Timeout(20.0, connect=5.0), follow_redirects=True)


def _photo(settings: Settings, row: Any) -> Path | None:
    if not row.media_path:
        return None
    path = media.safe_path(row.media_path, settings)
    if path is None:
        raise ChannelPermanent(f"media file missing: outbound {row.id}")
    return path


def deliver(client: httpx.Client, settings: Settings, row: Any) -> str:
    """Send one OutboundMessage row; return the provider's message id.

    Raises:
        ChannelRateLimited, ChannelPermanent, ChannelError: see core.errors.
    """
    extra = row.extra or {}
    choices = extra.get("choices") or []
    if row.channel == Channel.SIMULATOR:
        return f"sim:{row.id}"  # the simulator page reads its messages from the outbox
    if row.channel == Channel.TELEGRAM:
        if row.kind == CALLBACK_ANSWER:
            return telegram.answer_callback(
                client, settings, callback_id=str(extra.get("callback_id")), text=row.text
            )
        return telegram.send(
            client,
            settings,
            chat_id=row.recipient,
            text=row.text,
            choices=choices,
            inline=bool(extra.get("inline")),
            photo=_photo(settings, row),
        )
    if row.channel == Channel.WHATSAPP:
        return fonnte.send(
            client,
            settings,
            target=row.recipient,
            text=row.text,
            choices=choices,
            language=str(extra.get("lang") or settings.default_language),
            photo=_photo(settings, row),
            device=extra.get("device"),
        )
    if row.channel == Channel.WHATSAPP_CLOUD:
        return whatsapp_cloud.send(
            client,
            settings,
            to=row.recipient,
            text=row.text,
            choices=choices,
            language=str(extra.get("lang") or settings.default_language),
            photo=_photo(settings, row),
            template=extra.get("template"),  # set by workers.whatsapp outside the 24 h window
        )
    if row.channel == Channel.EMAIL:
        return mail.send(settings, row)  # e-ticket emails (fulfilment issue)
    raise ChannelPermanent(f"unknown channel {row.channel!r}")


def fetch_attachment(
    client: httpx.Client, settings: Settings, channel: Channel, attachment: Attachment
) -> str:
    """Download an inbound image into MEDIA_DIR/inbound; return its path relative to MEDIA_DIR.

    Raises:
        TooLarge: over DOWNLOAD_MAX_BYTES (checked before and while streaming).
        NotStored: the bytes could not be written (media disk full, bucket unreachable).
        DownloadError: the provider or the network failed.
    """
    cap = settings.download_max_bytes
    if attachment.size is not None and attachment.size > cap:
        raise TooLarge("declared size over the cap")
    relative = new_relative_path(attachment.mime_type)
    dest = settings.media_dir / relative
    if channel == Channel.TELEGRAM:
        telegram.download(client, settings, file_id=attachment.ref, dest=dest, max_bytes=cap)
    elif channel == Channel.WHATSAPP:
        fonnte.download(client, url=attachment.ref, dest=dest, max_bytes=cap)
    elif channel == Channel.WHATSAPP_CLOUD:
        whatsapp_cloud.download(client, settings, media_id=attachment.ref, dest=dest, max_bytes=cap)
    else:
        raise DownloadError(f"no downloads on {channel}")
    try:
        media.publish(relative, settings)  # S3: the worker that checks it may run elsewhere
    except StorageUnavailable as exc:
        raise NotStored(str(exc)) from exc
    return relative
