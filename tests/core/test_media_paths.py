"""core.media.safe_path: the one check before a stored file is served or sent."""

from __future__ import annotations

from core import media
from core.config import get_settings


def test_safe_path_only_names_existing_files_under_media_dir() -> None:
    root = get_settings().media_dir
    folder = root / "safe-path-test"  # its own folder: other tests count files in tickets/ etc.
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "t.png").write_bytes(b"png")
    outside = root.parent / "outside-media.txt"
    outside.write_bytes(b"secret")
    try:
        assert media.safe_path("safe-path-test/t.png") == (folder / "t.png").resolve()
        assert media.safe_path("safe-path-test/missing.png") is None
        assert media.safe_path("safe-path-test") is None  # a folder is not a file
        assert media.safe_path("../outside-media.txt") is None
        assert media.safe_path(str(outside)) is None  # absolute, outside MEDIA_DIR
        assert media.safe_path("") is None and media.safe_path(None) is None
    finally:
        outside.unlink()
        (folder / "t.png").unlink()
        folder.rmdir()
