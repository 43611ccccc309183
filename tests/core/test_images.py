"""Every check on an inbound payment image, and the clean copy that is kept."""

from __future__ import annotations

import pytest
from PIL import Image

from core import media
from core.config import get_settings
from core.errors import InvalidImage
from core.payments import screenshots
from tests.factories import encode, inbound, screenshot


def _refused(raw: str, key: str, **kwargs: object) -> None:
    with pytest.raises(InvalidImage) as info:
        screenshots.store_payment_image(raw, **kwargs)  # type: ignore[arg-type]
    assert info.value.key == key
    assert not media.resolve(raw).exists(), "the raw inbound file is always deleted"


def test_non_image_renamed_jpg_is_refused() -> None:
    _refused(
        inbound(b"%PDF-1.4 definitely not a picture" * 10, "bukti.jpg"), "payment.image.not_image"
    )


def test_truncated_jpeg_is_refused() -> None:
    data = encode(screenshot(), "JPEG", quality=90)
    _refused(inbound(data[: len(data) // 2], "cut.jpg"), "payment.image.corrupt")


def test_png_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = encode(Image.new("1", (10_000, 10_000)), "PNG")
    assert len(bomb) < 100_000, "tiny on disk, 100 megapixels when decoded"
    _refused(inbound(bomb, "bomb.png"), "payment.image.too_many_pixels")


def test_oversize_file_is_refused() -> None:
    settings = get_settings().model_copy(update={"payment_max_bytes": 10_000})
    data = encode(screenshot(), "PNG")
    assert len(data) > 10_000
    _refused(inbound(data, "big.png"), "payment.image.too_large", settings=settings)


def test_gif_is_refused_even_when_named_jpg() -> None:
    _refused(inbound(encode(screenshot(), "GIF"), "anim.jpg"), "payment.image.unsupported")


def test_gps_exif_is_not_kept() -> None:
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "S", (6.0, 10.0, 30.0), "E", (106.0, 49.0, 0.0)
    data = encode(screenshot(), "JPEG", exif=exif.tobytes())
    assert Image.open(inbound_path := media.resolve(inbound(data))).getexif().get_ifd(0x8825)
    stored = screenshots.store_payment_image(inbound_path)
    kept = Image.open(media.resolve(stored.path))
    assert not kept.getexif(), "no EXIF block at all"
    assert "exif" not in kept.info
    assert b"PhoneMaker" not in media.resolve(stored.path).read_bytes()
    assert not inbound_path.exists()


def test_png_kept_as_png_under_random_name() -> None:
    raw = inbound(encode(screenshot(), "PNG"), "../../etc/passwd.png")
    stored = screenshots.store_payment_image(raw)
    assert stored.path.startswith("payments/") and stored.path.endswith(".png")
    assert "passwd" not in stored.path
    assert Image.open(media.resolve(stored.path)).format == "PNG"
    assert (stored.width, stored.height, stored.source_format) == (720, 1280, "PNG")
    assert len(stored.sha256) == 64 and len(stored.phash) == 31


def test_declared_type_is_not_trusted_webp_named_gif_is_accepted() -> None:
    stored = screenshots.store_payment_image(inbound(encode(screenshot(), "WEBP"), "x.gif"))
    assert stored.source_format == "WEBP" and stored.path.endswith(".jpg")
    assert Image.open(media.resolve(stored.path)).format == "JPEG"


def test_heic_is_accepted_when_the_plugin_can_encode() -> None:
    try:
        data = encode(screenshot(), "HEIF")
    except (KeyError, OSError, ValueError):
        pytest.skip("this pillow-heif build has no HEIF encoder")
    stored = screenshots.store_payment_image(inbound(data, "IMG_0001.HEIC"))
    assert stored.source_format == "HEIF" and stored.path.endswith(".jpg")


def test_exif_orientation_is_applied_before_stripping() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    data = encode(screenshot(size=(400, 200)), "JPEG", exif=exif.tobytes())
    stored = screenshots.store_payment_image(inbound(data))
    assert (stored.width, stored.height) == (200, 400)


def test_near_identical_screenshots_are_close_and_different_transfers_are_not() -> None:
    first = screenshots.store_payment_image(inbound(encode(screenshot(150_123, ref=1), "PNG")))
    resent = screenshot(150_123, ref=1).resize((540, 960))
    again = screenshots.store_payment_image(inbound(encode(resent, "JPEG", quality=60)))
    other = screenshots.store_payment_image(inbound(encode(screenshot(250_456, ref=7), "PNG")))
    assert screenshots.phash_distance(first.phash, again.phash) <= screenshots.PHASH_NEAR
    assert screenshots.phash_distance(first.phash, other.phash) > screenshots.PHASH_NEAR
