"""Test data for the payments area: registrations built directly with the models, test images."""

from __future__ import annotations

import io
import random
import secrets
from datetime import UTC, datetime, timedelta

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.orm import Session

from core.config import get_settings
from core.enums import RegistrationStatus, Role
from core.models import AdminUser, Category, Event, Registration
from core.payments import amounts, photos
from tests import factories
from tests.factories import demo_event, jersey

__all__ = [
    "NOW",
    "category",
    "demo_event",
    "encode",
    "inbound",
    "jersey",
    "later",
    "make_admin",
    "make_registration",
    "screenshot",
    "send_photo",
]

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # Saturday 28 Nov 2026, 14:00 WIB


def category(session: Session, event: Event, code: str = "5K") -> Category:
    return factories.category(session, event, code)


def make_admin(session: Session, role: Role = Role.VERIFIER) -> AdminUser:
    admin = AdminUser(
        email=f"verifier-{secrets.token_hex(4)}@funrun.test",
        name="Vera Verifier",
        password_hash="x",
        role=role.value,
    )
    session.add(admin)
    session.flush()
    return admin


def make_registration(
    session: Session,
    event: Event,
    *,
    code: str = "5K",
    size: str | None = "M",
    chat_id: str | None = None,
    channel: str = "telegram",
    language: str = "id",
    now: datetime = NOW,
    assign: bool = True,
) -> Registration:
    """Build a confirmed registration holding a slot and a jersey, with its unique amount."""
    registration = factories.make_registration(
        session,
        event,
        code=code,
        status=RegistrationStatus.PENDING_PAYMENT,
        participant=factories.make_participant(session, event, jersey_size=size),
        hold=True,
        channel=channel,
        chat_id=chat_id or factories.random_chat_id(),
        language=language,
    )
    if assign:
        amounts.assign_amount(session, registration=registration, now=now)
        session.flush()
    return registration


def screenshot(
    amount: int = 150_123, ref: int = 1, size: tuple[int, int] = (720, 1280)
) -> Image.Image:
    """A fake banking-app transfer screenshot (different amounts/refs give different images)."""
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 0, size[0], 160], fill=(0, 80, 160))
    draw.text((40, 60), "m-BCA  Transfer Berhasil", fill="white", font=ImageFont.load_default(40))
    draw.text((40, 300), f"Rp {amount:,}", fill="black", font=ImageFont.load_default(72))
    draw.text((40, 450), "Ke: YAYASAN LARI JAKARTA", fill="black", font=ImageFont.load_default(40))
    ref_no = random.Random(ref).randint(10**9, 10**10)
    draw.text((40, 520), f"Ref {ref_no}", fill="black", font=ImageFont.load_default(40))
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=fmt, **params)
    return buf.getvalue()


def inbound(data: bytes, name: str = "photo.jpg") -> str:
    """Write bytes as a downloaded inbound file; return its MEDIA_DIR-relative path."""
    relative = f"inbound/{secrets.token_hex(8)}-{name}"
    path = get_settings().media_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return relative


def send_photo(
    session: Session,
    registration: Registration,
    *,
    hours: float = 1,
    amount: int | None = None,
    ref: int = 1,
) -> photos.PhotoResult:
    """The runner sends a PNG transfer screenshot ``hours`` after NOW (their own amount by default)."""
    image = screenshot(amount if amount is not None else registration.amount_due, ref=ref)
    return photos.receive_photo(
        session,
        registration=registration,
        stored_path=inbound(encode(image, "PNG")),
        provider_file_id=None,
        now=later(hours),
    )


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
