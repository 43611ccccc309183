"""Fuzz of the image intake: any bytes -> a clean stored copy or InvalidImage; nothing left behind.

Seeds are real small PNG/JPEG/WEBP/GIF/TIFF files (with EXIF orientation); hypothesis flips,
truncates and splices their bytes.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from core.config import Settings, get_settings
from core.errors import InvalidImage
from core.payments.screenshots import PAYMENTS_DIR, store_payment_image
from tests.fuzz.conftest import budget

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow on corrupt EXIF

FORMATS = ("PNG", "JPEG", "WEBP", "GIF", "TIFF", "BMP")


@st.composite
def seed(draw: st.DrawFn) -> bytes:
    fmt = draw(st.sampled_from(FORMATS))
    mode = draw(st.sampled_from(["RGB", "L", "RGBA", "P"]))
    if fmt == "JPEG" and mode in ("RGBA", "P"):
        mode = "RGB"
    size = (draw(st.integers(1, 40)), draw(st.integers(1, 40)))
    image = Image.new(mode, size, color=draw(st.integers(0, 255)))
    exif = Image.Exif()
    exif[0x0112] = draw(st.integers(0, 10))  # orientation, valid or not
    out = io.BytesIO()
    extra = {"exif": exif.tobytes()} if fmt in ("PNG", "JPEG", "WEBP") else {}
    image.save(out, format=fmt, **extra)
    return out.getvalue()


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(seed()))
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["flip", "truncate", "insert"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif op == "truncate":
            del data[at:]
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
    return bytes(data)


def _payments(settings: Settings) -> set[Path]:
    folder = settings.media_dir / PAYMENTS_DIR
    return set(folder.glob("*")) if folder.is_dir() else set()


@budget()
@given(data=st.one_of(mutated(), seed(), st.binary(max_size=64)))
def test_any_bytes_are_stored_clean_or_refused(data: bytes) -> None:
    settings = get_settings()
    raw = settings.media_dir / "inbound" / "fuzz.bin"
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_bytes(data)
    before = _payments(settings)
    try:
        stored = store_payment_image(raw, settings=settings)
    except InvalidImage:
        assert _payments(settings) == before  # a refusal writes nothing
    else:
        with Image.open(settings.media_dir / stored.path) as copy:
            copy.load()
            assert copy.size == (stored.width, stored.height)
            assert not copy.getexif()  # metadata stripped
        (settings.media_dir / stored.path).unlink()
    assert not raw.exists()  # the raw download is always deleted
