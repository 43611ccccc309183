"""Payment screenshots: check that an inbound file really is a safe image, then keep a clean copy.

The sender's file name, extension and declared MIME type are never trusted: Pillow decides what the
bytes are. Accepted images are re-encoded from pixels only (no EXIF, GPS or text chunks) under
``MEDIA_DIR/payments/<random>.{jpg,png}``. The raw inbound file is always deleted.
"""

from __future__ import annotations

import hashlib
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

from core.config import Settings, get_settings
from core.errors import InvalidImage

try:  # HEIC (iPhone screenshots shared as files) when the plugin is installed.
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_FORMATS = {"HEIF"}
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    HEIF_FORMATS = set()

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"} | HEIF_FORMATS
PAYMENTS_DIR = "payments"
# Perceptual hash: an 11x11 DCT (121 bits, 31 hex chars). The 8x8 default cannot tell apart two
# screenshots of the same banking app with different amounts; at 11x11 a re-sent, recompressed or
# resized copy stays within a few bits while a different transfer moves 8 or more.
PHASH_SIZE = 11
PHASH_NEAR = 5  # hamming distance at or below which two screenshots count as near-identical


@dataclass(frozen=True, slots=True)
class StoredImage:
    """A re-encoded image kept under MEDIA_DIR; ``path`` is relative to MEDIA_DIR."""

    path: str
    sha256: str
    phash: str
    width: int
    height: int
    source_format: str


def resolve(path: str | Path, settings: Settings | None = None) -> Path:
    """Turn a MEDIA_DIR-relative path (or an absolute one) into a filesystem path."""
    candidate = Path(path)
    if candidate.is_absolute():
        return candidate
    return (settings or get_settings()).media_dir / candidate


def store_payment_image(raw_path: str | Path, *, settings: Settings | None = None) -> StoredImage:
    """Validate the inbound file at ``raw_path``, store a clean copy, delete the raw file.

    Raises:
        InvalidImage: ``key`` names the reason (``payment.image.too_large``, ``.not_image``,
            ``.unsupported``, ``.too_many_pixels``, ``.corrupt``); the raw file is deleted too.
    """
    settings = settings or get_settings()
    source = resolve(raw_path, settings)
    try:
        return _store(source, settings)
    finally:
        source.unlink(missing_ok=True)


def _store(source: Path, settings: Settings) -> StoredImage:
    try:
        size = source.stat().st_size
    except FileNotFoundError as exc:
        raise InvalidImage(key="payment.image.missing") from exc
    if size > settings.payment_max_bytes:
        raise InvalidImage(
            key="payment.image.too_large", max_mb=settings.payment_max_bytes // 2**20
        )
    data = source.read_bytes()
    image = _open_checked(source, settings)
    clean = _strip(image)
    return StoredImage(
        path=_save(clean, image.format or "", settings),
        sha256=hashlib.sha256(data).hexdigest(),
        phash=str(imagehash.phash(clean, hash_size=PHASH_SIZE)),
        width=clean.width,
        height=clean.height,
        source_format=image.format or "",
    )


def _open_checked(source: Path, settings: Settings) -> Image.Image:
    """Open, identify, size-check, verify and fully decode the image (in that order)."""
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
            image.load()  # a truncated or damaged body fails here, not later in the admin
        except InvalidImage:
            raise
        except Image.DecompressionBombError as exc:
            raise InvalidImage(key="payment.image.too_many_pixels") from exc
        except UnidentifiedImageError as exc:
            raise InvalidImage(key="payment.image.not_image") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImage(key="payment.image.corrupt") from exc
    return image


def _strip(image: Image.Image) -> Image.Image:
    """Return a copy holding pixels only: orientation applied, every metadata block dropped."""
    upright = ImageOps.exif_transpose(image) or image
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        has_alpha = upright.mode in ("PA", "P") and "transparency" in upright.info
        upright = upright.convert("RGBA" if has_alpha or "A" in upright.mode else "RGB")
    # A fresh image from raw pixels carries no info dict: no EXIF, GPS, XMP, text chunks, comments.
    return Image.frombytes(upright.mode, upright.size, upright.tobytes())


def _save(clean: Image.Image, source_format: str, settings: Settings) -> str:
    """Write PNG for lossless or transparent sources, JPEG otherwise; return the relative path."""
    as_png = source_format == "PNG" or clean.mode in ("RGBA", "LA")
    suffix = "png" if as_png else "jpg"
    relative = f"{PAYMENTS_DIR}/{secrets.token_urlsafe(18)}.{suffix}"
    target = settings.media_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    if as_png:
        clean.save(target, format="PNG", optimize=False)
    else:
        clean.convert("RGB").save(target, format="JPEG", quality=88)
    return relative


def phash_distance(a: str, b: str) -> int:
    """Hamming distance between two hex perceptual hashes."""
    if not a or not b or len(a) != len(b):
        return PHASH_SIZE * PHASH_SIZE
    return (int(a, 16) ^ int(b, 16)).bit_count()
