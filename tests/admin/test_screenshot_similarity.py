"""The reused-screenshot warning is calibrated: copies of one transfer match, other transfers don't.

Screenshots of one bank-app template (same header, layout and colours) with other names and
amounts must stay above PHASH_NEAR, or every transfer after the first is flagged (review A6);
a recompressed or resized copy of one screenshot (a forwarded photo) must stay at or below it.
"""

from __future__ import annotations

import io

import imagehash
from PIL import Image, ImageDraw, ImageFont

from core.payments import screenshots

NAMES = ["DEWI AYU LESTARI", "BUDI SANTOSO", "SITI RAHMA", "ANDREAS WIJAYA", "KETUT PUTRA"]
AMOUNTS = [250_507, 400_604, 550_999, 150_123, 275_001]


def transfer(amount: int, name: str, minute: int) -> Image.Image:
    """One transfer receipt in a fixed m-banking template."""
    image = Image.new("RGB", (720, 1280), "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, 720, 160], fill=(0, 80, 160))
    draw.text((40, 60), "m-BCA  Transfer Berhasil", fill="white", font=ImageFont.load_default(40))
    draw.rectangle([0, 1180, 720, 1280], fill=(230, 230, 230))
    draw.text((40, 300), f"Rp {amount:,}", fill="black", font=ImageFont.load_default(72))
    draw.text((40, 450), "Ke: YAYASAN LARI JAKARTA", fill="black", font=ImageFont.load_default(40))
    draw.text((40, 520), f"Dari: {name}", fill="black", font=ImageFont.load_default(40))
    draw.text(
        (40, 660), f"01 Des 2026 10:{minute:02d}", fill="gray", font=ImageFont.load_default(32)
    )
    return image


def phash(image: Image.Image) -> str:
    size, factor = screenshots.PHASH_SIZE, screenshots.PHASH_HIGHFREQ
    return str(imagehash.phash(image, hash_size=size, highfreq_factor=factor))


def recompressed(image: Image.Image, quality: int, scale: float) -> Image.Image:
    resized = image.resize((int(image.width * scale), int(image.height * scale)))
    buf = io.BytesIO()
    resized.save(buf, format="JPEG", quality=quality)
    return Image.open(io.BytesIO(buf.getvalue())).convert("RGB")


def test_other_transfers_of_one_template_are_not_near() -> None:
    hashes = [phash(transfer(a, n, i)) for i, (a, n) in enumerate(zip(AMOUNTS, NAMES, strict=True))]
    distances = [
        screenshots.phash_distance(a, b) for i, a in enumerate(hashes) for b in hashes[i + 1 :]
    ]
    assert min(distances) > screenshots.PHASH_NEAR


def test_recompressed_or_resized_copy_is_near() -> None:
    for i, (amount, name) in enumerate(zip(AMOUNTS, NAMES, strict=True)):
        original = transfer(amount, name, i)
        for quality, scale in ((75, 1.25), (60, 1.0), (40, 0.75), (85, 0.5)):
            copy = recompressed(original, quality, scale)
            distance = screenshots.phash_distance(phash(original), phash(copy))
            assert distance <= screenshots.PHASH_NEAR, (quality, scale, distance)
