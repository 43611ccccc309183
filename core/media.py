"""Files under MEDIA_DIR: resolve a stored path, the one "stays under MEDIA_DIR" check, the inbound sweep."""

from __future__ import annotations

from pathlib import Path

from core.config import Settings, get_settings

INBOUND_DIR = "inbound"  # raw downloads (channels.media names them); deleted once checked


def resolve(path: str | Path, settings: Settings | None = None) -> Path:
    """Turn a MEDIA_DIR-relative path (or an absolute one) into a filesystem path."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    return (settings or get_settings()).media_dir / candidate


def safe_path(relative: str | None, settings: Settings | None = None) -> Path | None:
    """The existing file ``relative`` names under MEDIA_DIR, or None (empty, escapes it, no file).

    The one check before serving or sending a stored file: ``..`` or an absolute path outside
    MEDIA_DIR (a tampered row, a bad upload name) is refused like a missing file.
    """
    if not relative:
        return None
    root = (settings or get_settings()).media_dir.resolve()
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path.is_file() else None


def remove_stale_inbound(*, older_than: float, now: float, settings: Settings | None = None) -> int:
    """Delete raw downloads older than ``older_than`` seconds; return how many.

    A raw file is deleted as soon as it is checked, so what lingers was never used: a photo sent
    while the bot expected text, a pick between registrations that was abandoned, a worker that
    died between download and check. Drafts are dropped after 7 days; callers keep files longer.
    """
    folder = (settings or get_settings()).media_dir / INBOUND_DIR
    removed = 0
    for path in folder.glob("*") if folder.is_dir() else ():
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # another worker took it
    return removed
