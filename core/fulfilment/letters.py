"""Authorisation-letter photos taken at pickup: cleaned in memory, stored only once the check-in commits."""

from __future__ import annotations

import io
import secrets

from PIL import Image, ImageOps

from core import media
from core.errors import InvalidImage

LETTERS_SUBDIR = "checkin-letters"
MAX_LETTER_BYTES = 10 * 1024 * 1024


def clean_letter(data: bytes) -> bytes:
    """Re-encode an authorisation-letter photo as JPEG in memory (EXIF dropped); raise InvalidImage.

    Nothing is written: the caller saves it with save_letter() only once the check-in holding it
    is written, so a refused or retried scan leaves no orphan file.
    """
    if not data or len(data) > MAX_LETTER_BYTES:
        raise InvalidImage("letter photo empty or too large", key="checkin.letter_invalid")
    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.thumbnail((2000, 2000))
            clean = ImageOps.exif_transpose(opened).convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage("letter photo unreadable", key="checkin.letter_invalid") from exc
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=85)  # saving without exif= drops the metadata
    return out.getvalue()


def new_letter_path() -> str:
    """A fresh random MEDIA_DIR-relative name for a letter photo."""
    return f"{LETTERS_SUBDIR}/{secrets.token_hex(16)}.jpg"


def save_letter(jpeg: bytes, relative: str) -> None:
    """Store a cleaned letter photo (atomically: readers never see half a file)."""
    media.save(relative, jpeg)


def discard_letter(relative: str) -> None:
    """Remove a letter photo whose check-in did not commit."""
    media.delete(relative)
