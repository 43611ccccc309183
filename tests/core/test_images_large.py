"""Large photos are stored at a bounded size (decoded at reduced scale), still clean and hashable."""

from __future__ import annotations

from PIL import Image

from core import media
from core.payments import screenshots
from tests.factories import encode, inbound, screenshot

MAX = screenshots.MAX_STORED_SIDE


def _stored_image(path: str) -> Image.Image:
    image = Image.open(media.resolve(path))
    image.load()
    return image


def test_large_jpeg_is_stored_within_the_bound_keeping_aspect() -> None:
    photo = screenshot(size=(720, 1280)).resize((1800, 3200 * 2))
    stored = screenshots.store_payment_image(inbound(encode(photo, "JPEG", quality=80)))
    assert stored.height == MAX and abs(stored.width - 1800 * MAX / 6400) <= 1
    assert stored.source_format == "JPEG" and stored.path.endswith(".jpg")
    on_disk = _stored_image(stored.path)
    assert on_disk.size == (stored.width, stored.height) and "exif" not in on_disk.info


def test_large_rotated_jpeg_is_turned_upright_and_bounded() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    exif[0x010F] = "PhoneMaker"
    photo = Image.new("RGB", (6400, 1600), (30, 120, 200))
    stored = screenshots.store_payment_image(inbound(encode(photo, "JPEG", exif=exif.tobytes())))
    assert (stored.width, stored.height) == (750, MAX)
    assert not _stored_image(stored.path).getexif()


def test_large_palette_png_is_bounded_and_stays_png() -> None:
    tall = screenshot(size=(1000, 4000)).convert("P", palette=Image.Palette.ADAPTIVE)
    stored = screenshots.store_payment_image(inbound(encode(tall, "PNG"), "scroll.png"))
    assert (stored.width, stored.height) == (750, MAX) and stored.path.endswith(".png")


def test_images_at_the_bound_keep_their_size() -> None:
    stored = screenshots.store_payment_image(inbound(encode(screenshot(size=(1000, MAX)), "JPEG")))
    assert (stored.width, stored.height) == (1000, MAX)


def test_perceptual_hash_matches_across_a_large_copy_and_a_small_one() -> None:
    small = screenshots.store_payment_image(inbound(encode(screenshot(150_123, ref=1), "PNG")))
    big = screenshot(150_123, ref=1).resize((2160, 3840 + 2))  # decoded at 1/2 scale, then fitted
    large = screenshots.store_payment_image(inbound(encode(big, "JPEG", quality=85)))
    other = screenshots.store_payment_image(inbound(encode(screenshot(250_456, ref=7), "PNG")))
    assert max(large.width, large.height) == MAX
    assert screenshots.phash_distance(small.phash, large.phash) <= screenshots.PHASH_NEAR
    assert screenshots.phash_distance(large.phash, other.phash) > screenshots.PHASH_NEAR
