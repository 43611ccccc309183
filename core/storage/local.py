"""Media as files under MEDIA_DIR (the default; one machine, or a shared volume)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

from core.storage import clean_key

CHUNK = 64 * 1024


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str | None) -> Path | None:
        """The file ``key`` names if it exists and stays under the root, else None."""
        if not key:
            return None
        # Old rows may hold an absolute path inside MEDIA_DIR; resolving catches every escape.
        root = self.root.resolve()
        path = (root / key).resolve()
        return path if path.is_relative_to(root) and path.is_file() else None

    def put(self, key: str, data: bytes) -> None:
        """Write atomically: a concurrent reader never sees half a file."""
        safe = clean_key(key)
        if safe is None:
            raise ValueError("unsafe media key")
        target = self.root / safe
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f"{target.name}.{secrets.token_hex(4)}.tmp")
        try:
            partial.write_bytes(data)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)

    def get(self, key: str) -> bytes | None:
        path = self.path(key)
        return path.read_bytes() if path else None

    def chunks(self, key: str) -> Iterator[bytes] | None:
        path = self.path(key)
        return _read_chunks(path) if path else None

    def exists(self, key: str) -> bool:
        return self.path(key) is not None

    def delete(self, key: str) -> None:
        path = self.path(key)
        if path is not None:
            path.unlink(missing_ok=True)

    def listing(self, prefix: str) -> Iterator[tuple[str, float]]:
        folder = self.root / prefix
        for path in sorted(folder.rglob("*")) if folder.is_dir() else ():
            try:
                if path.is_file():
                    yield str(path.relative_to(self.root).as_posix()), path.stat().st_mtime
            except FileNotFoundError:
                continue  # another process removed it


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            yield block
