"""Fonnte send API over httpx: POST {FONNTE_API_BASE}/send (form, or multipart with `file`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from channels.media import DownloadError, stream_to_file
from core.config import Settings
from core.errors import ChannelError, ChannelPermanent, ChannelRateLimited
from core.formatting import chat_value
from core.i18n import t

# `reason`s that a retry cannot fix (the number or the file is wrong).
PERMANENT_REASONS = ("target invalid", "input invalid", "file format not supported", "invalid")


def render(text: str, choices: Sequence[Mapping[str, Any]], *, language: str) -> str:
    """WhatsApp has no buttons: append the choices as a numbered list plus "reply 1-n".

    A label is a value (a category or registration number): its asterisks are not markup.
    """
    labels = [chat_value(c["label"]) for c in choices if not c.get("request_contact")]
    if not labels:
        return text
    lines = "\n".join(f"{n}. {label}" for n, label in enumerate(labels, start=1))
    footer = t("channels.choose_number", language, n=len(labels))
    return f"{text}\n\n{lines}\n\n{footer}" if text else f"{lines}\n\n{footer}"


def send(
    client: httpx.Client,
    settings: Settings,
    *,
    target: str,
    text: str,
    choices: Sequence[Mapping[str, Any]] = (),
    language: str = "id",
    photo: Path | None = None,
    device: str | None = None,
) -> str:
    """Deliver one WhatsApp message from ``device`` (default: FONNTE_TOKEN's); return Fonnte's id.

    Raises:
        ChannelPermanent: Fonnte refused for good (invalid number, unsupported file).
        ChannelError: anything worth retrying (network, 5xx, quota, device offline).
    """
    token = device_token(settings, device)
    data = {
        "target": target,
        "message": render(text, choices, language=language),
        "countryCode": "62",
    }
    url = f"{settings.fonnte_api_base}/send"
    headers = {"Authorization": token}
    try:
        if photo is not None:
            with photo.open("rb") as fh:
                response = client.post(
                    url, headers=headers, data=data, files={"file": (photo.name, fh)}
                )
        else:
            response = client.post(url, headers=headers, data=data)
    except httpx.HTTPError as exc:
        raise ChannelError(f"fonnte send: {type(exc).__name__}") from exc
    return _result(response)


def device_token(settings: Settings, device: str | None) -> str:
    """The token that sends from ``device``: its own in FONNTE_DEVICES, else FONNTE_TOKEN."""
    secret = settings.fonnte_devices.get(device or "") or settings.fonnte_token
    return secret.get_secret_value() if secret else ""


def _result(response: httpx.Response) -> str:
    try:
        body = {str(k).lower(): v for k, v in response.json().items()}
    except (ValueError, AttributeError):
        body = {}
    if response.status_code == 429:
        retry_after = float(response.headers.get("retry-after") or 5)
        raise ChannelRateLimited("fonnte send 429", retry_after=retry_after)
    if response.status_code >= 500 or not body:
        raise ChannelError(f"fonnte send {response.status_code}")
    if body.get("status") is True:
        ids = body.get("id") or []
        return str(ids[0]) if isinstance(ids, list) and ids else str(ids or "")
    reason = str(body.get("reason") or body.get("detail") or f"status {response.status_code}")
    if any(marker in reason.lower() for marker in PERMANENT_REASONS):
        raise ChannelPermanent(f"fonnte: {reason}")
    raise ChannelError(f"fonnte: {reason}")


def download(client: httpx.Client, *, url: str, dest: Path, max_bytes: int) -> int:
    """Fetch an inbound attachment from its public Fonnte URL (links expire: do it at once)."""
    if not url.startswith(("http://", "https://")):
        raise DownloadError("not an http url")
    return stream_to_file(client, url, dest, max_bytes=max_bytes)
