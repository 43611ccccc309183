"""admin.uploads.store_image: the QRIS and broadcast uploads share one capped, re-encoding path."""

from __future__ import annotations

import asyncio
import io

import pytest
from starlette.datastructures import UploadFile

from admin import uploads
from core.config import get_settings
from core.errors import InvalidSetting
from tests import factories as f


def _store(data: bytes, what: str = "image") -> str:
    upload = UploadFile(io.BytesIO(data), filename="x.png")
    return asyncio.run(uploads.store_image(upload, what=what))


def test_a_good_image_is_stored_and_no_scratch_file_is_left() -> None:
    path = _store(f.png_bytes())
    media_dir = get_settings().media_dir
    assert (media_dir / path).is_file()
    assert not any((media_dir / "incoming").iterdir())


def test_too_large_and_not_an_image_are_refused_by_name() -> None:
    with pytest.raises(InvalidSetting, match="the QRIS image is larger than 5 MB"):
        _store(b"\0" * (uploads.MAX_IMAGE_BYTES + 1), what="QRIS image")
    with pytest.raises(InvalidSetting, match="the image file is not a usable image"):
        _store(b"not a picture at all")
