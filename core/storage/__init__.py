"""Where media bytes live: local files under MEDIA_DIR, or an S3-compatible bucket (MEDIA_URL).

One small interface, two adapters. Keys are MEDIA_DIR-style relative names ("payments/x.jpg");
``clean_key`` refuses anything that could escape the prefix, for both adapters alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Protocol


class Storage(Protocol):
    """Bytes by key. Every method treats a refused key like a missing object."""

    def put(self, key: str, data: bytes) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def chunks(self, key: str) -> Iterator[bytes] | None: ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None: ...

    def listing(self, prefix: str) -> Iterator[tuple[str, float]]:
        """(key, modified as a Unix time) of every object under ``prefix``."""
        ...


def clean_key(key: str | None) -> str | None:
    """``key`` as a safe relative POSIX name, or None (empty, absolute, ``..``, backslashes)."""
    if not key or "\\" in key or "\x00" in key:
        return None
    path = PurePosixPath(key)
    if path.is_absolute() or any(part in ("..", "") for part in key.split("/")):
        return None
    return str(path)
