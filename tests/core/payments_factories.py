"""Test data for the payments area: registrations built directly with the models, test images."""

from __future__ import annotations

import io
import random
import secrets
from datetime import UTC, datetime, timedelta

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.enums import RegistrationStatus, Role
from core.models import AdminUser, Category, Event, JerseyStock, Participant, Registration
from core.services import demo, payments

NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # Saturday 28 Nov 2026, 14:00 WIB


def demo_event(session: Session) -> Event:
    """Seed the demo event (idempotent) and return it."""
    result = demo.seed(session, admin_password="demo-password-123")
    event = session.get(Event, result.event_id)
    assert event is not None
    return event


def category(session: Session, event: Event, code: str = "5K") -> Category:
    return session.scalars(
        select(Category).where(Category.event_id == event.id, Category.code == code)
    ).one()


def jersey(session: Session, event: Event, size: str = "M") -> JerseyStock:
    return session.scalars(
        select(JerseyStock).where(JerseyStock.event_id == event.id, JerseyStock.size == size)
    ).one()


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
    cat = category(session, event, code)
    participant = Participant(
        event_id=event.id, full_name=f"Runner {secrets.token_hex(3)}", jersey_size=size
    )
    session.add(participant)
    session.flush()
    registration = Registration(
        number=f"{cat.reg_prefix}-{secrets.token_hex(4).upper()}",
        event_id=event.id,
        category_id=cat.id,
        participant_id=participant.id,
        status=RegistrationStatus.PENDING_PAYMENT.value,
        channel=channel,
        chat_id=chat_id or str(random.randint(10**8, 10**9)),
        language=language,
        price=cat.price,
        amount_due=cat.price,
    )
    session.add(registration)
    cat.slots_taken += 1
    if size:
        jersey(session, event, size).taken += 1
    session.flush()
    if assign:
        payments.assign_amount(session, registration=registration, now=now)
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


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)
