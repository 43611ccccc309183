"""Payment screenshots: check that an inbound file really is a safe image, then keep a clean copy.

The sender's file name, extension and declared MIME type are never trusted: Pillow decides what the
bytes are. Accepted images are re-encoded from pixels only (no EXIF, GPS or text chunks) under
``MEDIA_DIR/payments/<random>.{jpg,png}``, at most ``MAX_STORED_SIDE`` pixels on the longest side
(a verifier needs a readable screenshot, not a 40 MP photo; JPEGs are decoded at reduced scale, so
a large photo never sits in memory at full size). The raw inbound file is always deleted.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from core import media
from core.config import Settings, get_settings
from core.errors import InvalidImage

# HEIC (iPhone screenshots shared as files) when the plugin is installed; registered with Pillow
# on the first photo (_open_checked), not at start-up: it is ~11 MiB of every process's RSS.
HEIF_FORMATS = {"HEIF"} if importlib.util.find_spec("pillow_heif") else set()
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"} | HEIF_FORMATS
PAYMENTS_DIR = "payments"
# Perceptual hash: 11x11 low frequencies (121 bits, 31 hex chars) of the DCT of an 88x88 grey
# copy (highfreq_factor 8; at the default 4 the text lines of two transfers in one bank-app
# template blur into the same bars). Calibrated on generated screenshots of one template
# (tests/admin/test_screenshot_similarity.py): a recompressed (JPEG q40-85) or resized (0.5x to
# 1.25x) copy moves at most 2 bits; transfers with other names and amounts differ by 8 or more,
# one with only the amount and reference changed by 4. A transfer differing only in the 3-digit
# unique code (same sender) can still be 0-2 bits away: no whole-image hash separates those, so
# the warning says "looks very similar", and only the exact-file checks say "reused".
PHASH_SIZE = 11
PHASH_HIGHFREQ = 8
PHASH_NEAR = 3  # at or below: near-identical (copies <= 2 bits, other transfers >= 4)
# Longest side of the stored copy: a tall phone screenshot (1170x2532, 1290x2796) stays full size.
MAX_STORED_SIDE = 3000
DRAFT_FORMATS = {"JPEG", "MPO"}  # libjpeg can decode at 1/2, 1/4 or 1/8 scale


@dataclass(frozen=True, slots=True)
class StoredImage:
    """A re-encoded image kept under MEDIA_DIR; ``path`` is relative to MEDIA_DIR."""

    path: str
    sha256: str
    phash: str
    width: int
    height: int
    source_format: str


def store_payment_image(raw_path: str | Path, *, settings: Settings | None = None) -> StoredImage:
    """Validate the inbound file at ``raw_path``, store a clean copy, delete the raw file.

    Raises:
        InvalidImage: ``key`` names the reason (``payment.image.too_large``, ``.not_image``,
            ``.unsupported``, ``.too_many_pixels``, ``.corrupt``); the raw file is deleted too.
    """
    settings = settings or get_settings()
    source = _local_source(raw_path, settings)
    try:
        return _store(source, settings)
    finally:
        media.delete(str(raw_path), settings)  # the raw download, wherever it was kept


def _local_source(raw_path: str | Path, settings: Settings) -> Path:
    """A local file with the raw bytes (with S3, the prefetching process uploaded them)."""
    if Path(raw_path).is_absolute():
        return Path(raw_path)
    # A missing object gives a path that does not exist: _store says "missing" like before.
    return media.safe_path(str(raw_path), settings) or media.resolve(raw_path, settings)


def _store(source: Path, settings: Settings) -> StoredImage:
    try:
        size = source.stat().st_size
    except FileNotFoundError as exc:
        raise InvalidImage(key="payment.image.missing") from exc
    if size > settings.payment_max_bytes:
        raise InvalidImage(
            key="payment.image.too_large", max_mb=settings.payment_max_bytes // 2**20
        )
    with source.open("rb") as handle:
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    image = _open_checked(source, settings)
    source_format = image.format or ""
    clean = _strip(image)
    del image  # the decoded source is no longer needed while encoding
    return StoredImage(
        path=_save(clean, source_format, settings),
        sha256=sha256,
        # On the stored (bounded) copy, so every hash is computed from the same kind of image.
        phash=str(_imagehash().phash(clean, hash_size=PHASH_SIZE, highfreq_factor=PHASH_HIGHFREQ)),
        width=clean.width,
        height=clean.height,
        source_format=source_format,
    )


def _open_checked(source: Path, settings: Settings) -> Image.Image:
    """Open, identify, size-check, verify and fully decode the image (in that order)."""
    _register_heif()
    with warnings.catch_warnings():
        # Our own pixel limit is checked before decoding; Pillow's bomb warning is noise here.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(source) as probe:
                fmt, (width, height) = probe.format, probe.size
                if fmt not in ACCEPTED_FORMATS:
                    raise InvalidImage(key="payment.image.unsupported", format=fmt or "?")
                if width * height > settings.payment_max_pixels:
                    raise InvalidImage(key="payment.image.too_many_pixels")
                probe.verify()  # structural check (CRCs, chunk order) without decoding
            image = Image.open(source)
            image = _decode_bounded(image)  # a truncated or damaged body fails here, not later
        except InvalidImage:
            raise
        except Image.DecompressionBombError as exc:
            raise InvalidImage(key="payment.image.too_many_pixels") from exc
        except UnidentifiedImageError as exc:
            raise InvalidImage(key="payment.image.not_image") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImage(key="payment.image.corrupt") from exc
    return image


def _decode_bounded(image: Image.Image) -> Image.Image:
    """Decode to at most ``MAX_STORED_SIDE`` on the longest side (JPEG: at reduced scale)."""
    width, height = image.size
    scale = MAX_STORED_SIDE / max(width, height)
    if scale < 1 and image.format in DRAFT_FORMATS:
        # libjpeg picks the smallest 1/2^n scale still at least this size; decodes only that.
        image.draft(None, (max(1, int(width * scale)), max(1, int(height * scale))))
    image.load()
    if max(image.size) > MAX_STORED_SIDE:
        fmt = image.format
        image = _plain_mode(image)  # palette images would otherwise be resized without filtering
        image.thumbnail((MAX_STORED_SIDE, MAX_STORED_SIDE), Image.Resampling.LANCZOS)
        image.format = fmt  # the stored file type follows the source format
    return image


def _plain_mode(image: Image.Image) -> Image.Image:
    """``image`` itself if RGB(A)/L(A), else converted to RGB or RGBA (keeping transparency)."""
    if image.mode in ("RGB", "RGBA", "L", "LA"):
        return image
    has_alpha = image.mode in ("PA", "P") and "transparency" in image.info
    return image.convert("RGBA" if has_alpha or "A" in image.mode else "RGB")


def _strip(image: Image.Image) -> Image.Image:
    """Return a copy holding pixels only: orientation applied, every metadata block dropped."""
    ImageOps.exif_transpose(image, in_place=True)  # no full-size copy of an unrotated image
    upright = _plain_mode(image)
    # A fresh image from raw pixels carries no info dict: no EXIF, GPS, XMP, text chunks, comments.
    return Image.frombytes(upright.mode, upright.size, upright.tobytes())


def _save(clean: Image.Image, source_format: str, settings: Settings) -> str:
    """Write PNG for lossless or transparent sources, JPEG otherwise; return the relative path."""
    as_png = source_format == "PNG" or clean.mode in ("RGBA", "LA")
    suffix = "png" if as_png else "jpg"
    relative = f"{PAYMENTS_DIR}/{secrets.token_urlsafe(18)}.{suffix}"
    out = io.BytesIO()
    if as_png:
        clean.save(out, format="PNG", optimize=False)
    else:
        (clean if clean.mode == "RGB" else clean.convert("RGB")).save(
            out, format="JPEG", quality=88
        )
    media.save(relative, out.getvalue(), settings)
    return relative


def phash_distance(a: str, b: str) -> int:
    """Hamming distance between two hex perceptual hashes."""
    if not a or not b or len(a) != len(b):
        return PHASH_SIZE * PHASH_SIZE
    return (int(a, 16) ^ int(b, 16)).bit_count()


@functools.cache
def _register_heif() -> None:
    if HEIF_FORMATS:
        from pillow_heif import register_heif_opener

        register_heif_opener()


def _imagehash():  # noqa: ANN202
    """imagehash (and numpy under it) loaded on the first photo, not at start-up (RSS, issue 12)."""
    import imagehash

    return imagehash
