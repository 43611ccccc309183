"""Streamed, size-capped downloads of runners' images into private storage (MEDIA_DIR/inbound)."""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from core.config import Settings, get_settings
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


class NotStored(DownloadError):
    """The download could not be written (media disk full, bucket unreachable): ask for a resend."""

    reason = "not_stored"


class Forbidden(DownloadError):
    """The URL (or a redirect) names a host that is not a provider's, or a private address."""

    reason = "forbidden_host"


MAX_REDIRECTS = 3


def allowed_hosts(settings: Settings | None = None) -> set[str]:
    """MEDIA_ALLOWED_HOSTS plus the hosts of the configured provider API bases."""
    settings = settings or get_settings()
    hosts = {h.strip().lower() for h in settings.media_allowed_hosts.split(",") if h.strip()}
    for base in (settings.telegram_api_base, settings.fonnte_api_base, settings.whatsapp_api_base):
        host = httpx.URL(base).host
        if host:
            hosts.add(host.lower())
    return hosts


def check_url(url: str, allowed: set[str]) -> None:
    """Refuse (Forbidden) a URL that could make us fetch from inside our own network (SSRF).

    The host must be an allowed one or its subdomain; an address that resolves to loopback,
    private, link-local or reserved space is refused unless that exact host is listed (test fakes).
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise Forbidden("invalid url") from exc
    host = (parsed.host or "").lower().rstrip(".")
    if parsed.scheme not in ("http", "https") or not host:
        raise Forbidden("not an http url")
    if not any(host == h or host.endswith("." + h) for h in allowed):
        raise Forbidden("host not allowed")
    if host not in allowed and _resolves_inside(host, parsed.port or 443):
        raise Forbidden("private address")


def _resolves_inside(host: str, port: int) -> bool:
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # the request itself will fail
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not address.is_global or address.is_multicast:
            return True
    return False


def stream_to_file(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    max_bytes: int,
    allowed: set[str] | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """GET ``url`` into ``dest``, refusing more than ``max_bytes``; return the size written.

    Redirects are followed by hand (at most MAX_REDIRECTS), each hop checked by check_url.
    """
    allowed = allowed if allowed is not None else allowed_hosts()
    partial = dest.with_name(dest.name + ".part")
    size = 0
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        with _open(client, url, allowed, headers) as response:
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
    except OSError as exc:  # ENOSPC and friends: the partial file goes, the runner is told
        log.warning("download not stored: %s", exc.strerror or type(exc).__name__)
        raise NotStored(type(exc).__name__) from exc
    finally:
        partial.unlink(missing_ok=True)
    return size


@contextmanager
def _open(
    client: httpx.Client, url: str, allowed: set[str], headers: dict[str, str] | None = None
) -> Iterator[httpx.Response]:
    """The response for ``url`` after checked redirects (the caller reads and closes it)."""
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, allowed)
        with client.stream("GET", url, headers=headers, follow_redirects=False) as response:
            if not response.is_redirect:
                yield response
                return
            url = str(response.url.join(response.headers.get("location", "")))
    raise DownloadError("too many redirects")
