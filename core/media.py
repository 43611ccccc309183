"""Media by MEDIA_DIR-relative key: store, read, stream, delete; the inbound sweep.

Where the bytes live is core.storage's business: files under MEDIA_DIR by default, or an
S3-compatible bucket when MEDIA_URL=s3://bucket/prefix (then MEDIA_DIR only holds scratch: fresh
downloads before upload and a disposable read cache, nothing another process needs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from core.config import Settings, get_settings
from core.errors import StorageUnavailable
from core.storage import Storage, clean_key
from core.storage.local import LocalStorage

log = logging.getLogger(__name__)

INBOUND_DIR = "inbound"  # raw downloads (channels.media names them); deleted once checked
CACHE_DIR = ".s3-cache"  # local copies of bucket objects for code that wants a file (uploads)


def resolve(path: str | Path, settings: Settings | None = None) -> Path:
    """Turn a MEDIA_DIR-relative path (or an absolute one) into a local filesystem path."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    return (settings or get_settings()).media_dir / candidate


def is_remote(settings: Settings | None = None) -> bool:
    return bool((settings or get_settings()).media_url)


def storage(settings: Settings | None = None) -> Storage:
    """The configured store (one client per process and configuration)."""
    settings = settings or get_settings()
    if not settings.media_url:
        return LocalStorage(settings.media_dir)
    secret = settings.aws_secret_access_key
    return _s3(
        settings.media_url,
        settings.s3_endpoint_url,
        settings.aws_region,
        settings.aws_access_key_id,
        secret.get_secret_value() if secret else None,
    )


@lru_cache(maxsize=4)
def _s3(url: str, endpoint: str | None, region: str | None, key_id: str | None, secret: str | None):
    from core.storage.s3 import S3Storage

    return S3Storage(
        url,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def save(relative: str, data: bytes, settings: Settings | None = None) -> None:
    """Store ``data`` under ``relative`` (atomically: readers see all of it or nothing).

    Raises:
        StorageUnavailable: the write failed (disk full, bucket unreachable); nothing was kept.
    """
    try:
        storage(settings).put(relative, data)
    except OSError as exc:  # ENOSPC, EROFS, EIO...: S3Storage raises StorageUnavailable itself
        log.warning("media write failed: %s", exc.strerror or type(exc).__name__)
        raise StorageUnavailable("media write failed") from exc


def exists(relative: str | None, settings: Settings | None = None) -> bool:
    return bool(relative) and storage(settings).exists(relative)


def chunks(relative: str | None, settings: Settings | None = None) -> Iterator[bytes] | None:
    """The stored bytes in blocks (for streaming to staff), or None when missing or refused."""
    return storage(settings).chunks(relative) if relative else None


def delete(relative: str | None, settings: Settings | None = None) -> None:
    """Remove a stored object (and this process's cached copy); absolute paths are local files."""
    if not relative:
        return
    settings = settings or get_settings()
    if Path(relative).is_absolute():
        Path(relative).unlink(missing_ok=True)
        return
    storage(settings).delete(relative)
    if is_remote(settings) and clean_key(relative):
        (settings.media_dir / CACHE_DIR / relative).unlink(missing_ok=True)


def publish(relative: str, settings: Settings | None = None) -> None:
    """Make a file just written at MEDIA_DIR/relative visible to every process (S3: upload it)."""
    settings = settings or get_settings()
    if not is_remote(settings):
        return
    local = settings.media_dir / relative
    try:
        storage(settings).put(relative, local.read_bytes())
    finally:
        local.unlink(missing_ok=True)  # uploaded, or refused: the runner is asked to resend


def safe_path(relative: str | None, settings: Settings | None = None) -> Path | None:
    """A local file holding what ``relative`` names, or None (empty, escapes MEDIA_DIR, missing).

    The one check before serving or sending a stored file: ``..`` or an absolute path outside
    MEDIA_DIR (a tampered row, a bad upload name) is refused like a missing file. With S3 the
    object is copied into a local cache first (keys are never reused with other content).
    """
    settings = settings or get_settings()
    if not is_remote(settings):
        return LocalStorage(settings.media_dir).path(relative)
    key = clean_key(relative)
    if key is None:
        return None
    cache = LocalStorage(settings.media_dir / CACHE_DIR)
    cached = cache.path(key)
    if cached is not None:
        return cached
    data = storage(settings).get(key)
    if data is None:
        return None
    cache.put(key, data)
    return cache.path(key)


def remove_stale_inbound(*, older_than: float, now: float, settings: Settings | None = None) -> int:
    """Delete raw downloads older than ``older_than`` seconds; return how many.

    A raw file is deleted as soon as it is checked, so what lingers was never used: a photo sent
    while the bot expected text, a pick between registrations that was abandoned, a worker that
    died between download and check. Drafts are dropped after 7 days; callers keep files longer.
    With S3 the local scratch (downloads never uploaded, the read cache) is swept too.
    """
    settings = settings or get_settings()
    stores: list[tuple[Storage, str]] = [(storage(settings), INBOUND_DIR)]
    if is_remote(settings):
        local = LocalStorage(settings.media_dir)
        stores += [(local, INBOUND_DIR), (local, CACHE_DIR)]
    removed = 0
    for store, prefix in stores:
        for key, modified in list(store.listing(prefix)):
            if now - modified > older_than:
                store.delete(key)
                removed += 1
    return removed
