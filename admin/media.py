"""Private media: payment screenshots and QRIS images, only for signed-in staff with the right role."""

from __future__ import annotations

import mimetypes

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import StreamingResponse

from admin.auth import require_roles
from core import media
from core.db import get_sessionmaker
from core.enums import Role
from core.models import AdminUser, ConsentLetter, PaymentAccount, PaymentImage

router = APIRouter(prefix="/admin/media")
PRIVATE = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}


def private_file(relative: str | None) -> StreamingResponse:
    """Stream a stored file (local or from the private bucket), refusing anything that escapes.

    Streamed through the admin rather than a presigned URL: the bucket never needs to be
    reachable from staff browsers, and the role check covers every byte.
    """
    blocks = media.chunks(relative)
    if blocks is None:
        raise HTTPException(status_code=404)
    kind = mimetypes.guess_type(relative or "")[0] or "application/octet-stream"
    return StreamingResponse(blocks, media_type=kind, headers=PRIVATE)


@router.get("/payment-images/{image_id}")
def payment_image(image_id: int, _user: AdminUser = Depends(require_roles(Role.VERIFIER))):
    """One payment screenshot (verifiers and admins only; never cached)."""
    with get_sessionmaker()() as session:
        image = session.get(PaymentImage, image_id)
        relative = image.path if image else None
    return private_file(relative)


@router.get("/qris/{account_id}")
def qris_image(account_id: int, _user: AdminUser = Depends(require_roles(Role.ADMIN))):
    """The QRIS image configured for a payment account."""
    with get_sessionmaker()() as session:
        account = session.get(PaymentAccount, account_id)
        relative = account.qris_image_path if account else None
    return private_file(relative)


@router.get("/consent-letters/{letter_id}")
def consent_letter(letter_id: int, _user: AdminUser = Depends(require_roles(Role.VERIFIER))):
    """One minor's parental consent letter photo (verifiers and admins only; never cached)."""
    with get_sessionmaker()() as session:
        letter = session.get(ConsentLetter, letter_id)
        relative = letter.path if letter else None
    return private_file(relative)
