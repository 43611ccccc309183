"""Streamed, size-capped downloads of runners' images into private storage (MEDIA_DIR/inbound)."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import httpx

from core.media import INBOUND_DIR

log = logging.getLogger(__name__)

EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
}


class DownloadError(Exception):
    """The file could not be fetched (network error, provider refused, link expired)."""

    reason = "download_failed"


class TooLarge(DownloadError):
    """The file is bigger than DOWNLOAD_MAX_BYTES."""

    reason = "too_large"


def new_relative_path(mime_type: str | None) -> str:
    """A random, unguessable file name under inbound/ (relative to MEDIA_DIR)."""
    suffix = EXTENSIONS.get((mime_type or "").lower(), ".bin")
    return f"{INBOUND_DIR}/{secrets.token_urlsafe(18)}{suffix}"


def stream_to_file(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    headers: dict[str, str] | None = None,
) -> int:
    """GET ``url`` into ``dest``, refusing more than ``max_bytes``; return the size written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    size = 0
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                raise DownloadError(f"status {response.status_code}")
            declared = int(response.headers.get("content-length") or 0)
            if declared > max_bytes:
                raise TooLarge(f"{declared} bytes declared")
            with partial.open("wb") as fh:
                for chunk in response.iter_bytes(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"over {max_bytes} bytes")
                    fh.write(chunk)
        partial.replace(dest)
    except httpx.HTTPError as exc:
        raise DownloadError(type(exc).__name__) from exc
    finally:
        partial.unlink(missing_ok=True)
    return size
