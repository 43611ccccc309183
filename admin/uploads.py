"""Images an organiser uploads (a QRIS code, a broadcast picture): checked like a payment photo."""

from __future__ import annotations

import secrets

from starlette.datastructures import UploadFile

from core.config import get_settings
from core.errors import InvalidSetting, ServiceError
from core.payments import screenshots

MAX_IMAGE_BYTES = 5 * 1024 * 1024


async def store_image(upload: UploadFile, *, what: str = "image") -> str:
    """Read at most 5 MB of ``upload``, re-encode it as a payment photo is; return its MEDIA_DIR path.

    ``what`` names the image in the error ("the QRIS image is larger than 5 MB").
    """
    raw = await upload.read(MAX_IMAGE_BYTES + 1)
    if len(raw) > MAX_IMAGE_BYTES:
        raise InvalidSetting(f"the {what} is larger than 5 MB")
    # A scratch file under MEDIA_DIR/incoming, as a chat download lands: the same checks read it.
    incoming = get_settings().media_dir / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    target = incoming / secrets.token_hex(16)
    target.write_bytes(raw)
    try:
        return screenshots.store_payment_image(target).path
    except ServiceError as exc:
        raise InvalidSetting(f"the {what} file is not a usable image (JPEG or PNG)") from exc
