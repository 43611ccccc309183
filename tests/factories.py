"""The one home for test data: the demo event, participants, registrations, payments, staff, images.

Every builder takes keyword options instead of having per-package copies with other defaults; a test
says what it needs (``status=``, ``code=``, ``amount=``) at the call.
"""

from __future__ import annotations

import io
import itertools
import random
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import demo
from core.config import get_settings
from core.db import utcnow
from core.enums import ACTIVE_STATUSES, PaymentStatus, RegistrationStatus, Role
from core.models import (
    AdminUser,
    Category,
    Event,
    JerseyStock,
    Participant,
    Payment,
    PaymentImage,
    Registration,
)
from core.payments import amounts, photos
from core.staff import accounts

DEMO_PASSWORD = "demo-password-123"
PASSWORD = "correct horse battery"  # the admin tests' staff (and seeded admin) password
NOW = datetime(2026, 11, 28, 7, 0, tzinfo=UTC)  # Saturday 28 Nov 2026, 14:00 WIB
ACTIVE = {s.value for s in ACTIVE_STATUSES}
# A confirmed draft awaiting its transfer: slot and jersey held, amount assigned at NOW.
UNPAID: dict[str, Any] = {"status": RegistrationStatus.PENDING_PAYMENT, "amount": "assign"}
_AWAITING = {
    RegistrationStatus.PENDING_PAYMENT.value,
    RegistrationStatus.AWAITING_VERIFICATION.value,
}


def suffix(nbytes: int = 3) -> str:
    """A random hex suffix that keeps names, numbers and emails unique."""
    return secrets.token_hex(nbytes)


def random_phone() -> str:
    return "62812" + str(secrets.randbelow(10**7)).zfill(7)


_codes = itertools.count()


def next_unique_code() -> int:
    """A transfer code 1-998 that differs from the previous 997 (random codes collide by birthday)."""
    return 1 + next(_codes) % 998


def random_chat_id() -> str:
    return str(10**8 + secrets.randbelow(9 * 10**8))


def later(hours: float) -> datetime:
    return NOW + timedelta(hours=hours)


# --- the event ---------------------------------------------------------------------------------


def demo_event(session: Session, *, admin_password: str = DEMO_PASSWORD) -> Event:
    """Seed (or find) the demo event (3 categories, jersey stock, a BCA account, an admin)."""
    result = demo.seed(session, admin_password=admin_password)
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


# --- runners -----------------------------------------------------------------------------------


def make_participant(session: Session, event: Event, **fields: Any) -> Participant:
    """A participant with a random name; keyword arguments set any other column."""
    participant = Participant(
        **({"event_id": event.id, "full_name": f"Runner {suffix()}"} | fields)
    )
    session.add(participant)
    session.flush()
    return participant


def runner(
    session: Session,
    event: Event,
    *,
    full_name: str | None = None,
    email: str | None = "random",
    jersey_size: str | None = "M",
    **fields: Any,
) -> Participant:
    """A complete participant: random name, phone and email (``email=None`` for a runner without)."""
    name = full_name or f"Runner {suffix(4).upper()}"
    defaults = {
        "full_name": name,
        "gender": "F",
        "email": f"runner-{suffix()}@example.test" if email == "random" else email,
        "phone": random_phone(),
        "jersey_size": jersey_size,
        "answers": {"full_name": name, "jersey_size": jersey_size},
    }
    return make_participant(session, event, **(defaults | fields))


Amount = Literal["code", "assign", "none"]


def make_registration(
    session: Session,
    event: Event,
    *,
    code: str = "5K",
    status: RegistrationStatus = RegistrationStatus.AWAITING_VERIFICATION,
    participant: Participant | None = None,
    full_name: str | None = None,
    email: str | None = "random",
    jersey_size: str | None = "M",
    hold: bool | None = None,
    amount: Amount = "code",
    unique_code: int | None = None,
    now: datetime = NOW,
    **fields: Any,
) -> Registration:
    """A registration in ``code``'s category with its participant (built by `runner` unless given).

    ``hold`` takes a slot and the jersey (default: when the status is active). ``amount``:
    ``"code"`` sets price + ``unique_code`` (a fresh one by default), reserved while awaiting
    payment, deadline in 24 h; ``"assign"`` runs the real `amounts.assign_amount` at ``now``;
    ``"none"`` leaves only the price, for tests that assign amounts themselves.
    """
    cat = category(session, event, code)
    participant = participant or runner(
        session, event, full_name=full_name, email=email, jersey_size=jersey_size
    )
    defaults = {
        "number": f"{cat.reg_prefix}-{suffix(4).upper()}",
        "event_id": event.id,
        "category_id": cat.id,
        "participant_id": participant.id,
        "status": status.value,
        "channel": "telegram",
        "chat_id": random_chat_id(),
        "price": cat.price,
        "amount_due": cat.price,
    }
    if amount == "code":
        defaults |= _coded_amount(cat.price, status, unique_code)
    registration = Registration(**(defaults | fields))
    session.add(registration)
    if status.value in ACTIVE if hold is None else hold:
        cat.slots_taken += 1
        if participant.jersey_size:
            jersey(session, event, participant.jersey_size).taken += 1
    session.flush()
    if amount == "assign":
        amounts.assign_amount(session, registration=registration, now=now)
        session.flush()
    return registration


def _coded_amount(price: int, status: RegistrationStatus, unique_code: int | None) -> dict:
    code = unique_code if unique_code is not None else next_unique_code()
    return {
        "unique_code": code,
        "amount_due": price + code,
        "amount_key": price + code if status.value in _AWAITING else None,
        "payment_deadline": utcnow() + timedelta(hours=24),
    }


# --- staff -------------------------------------------------------------------------------------


def make_staff(
    session: Session, role: Role = Role.VERIFIER, *, password: str | None = None
) -> AdminUser:
    """A staff account. With ``password`` it is created (and audited) as the admin does and can
    log in; without, a bare row that only acts (no password hashing, fast)."""
    if password is not None:
        return accounts.create(
            session,
            email=f"{role.value}-{suffix()}@example.test",
            password=password,
            role=role,
            name=f"{role.value.title()} {suffix()}",
            actor="test",
        )
    user = AdminUser(
        email=f"{role.value}-{suffix(4)}@funrun.test",
        name=f"{role.value.title()} {suffix()}",
        password_hash="x",
        role=role.value,
    )
    session.add(user)
    session.flush()
    return user


# --- payments and images -----------------------------------------------------------------------


def png_bytes(color: str = "navy") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (120, 200), color).save(buf, "PNG")
    return buf.getvalue()


def make_payment(
    session: Session, registration: Registration, *, flags: dict | None = None
) -> Payment:
    """A submitted photo payment with one stored screenshot under MEDIA_DIR."""
    media = Path(get_settings().media_dir)
    relative = f"payments/{suffix()}{suffix()}.png"
    (media / relative).parent.mkdir(parents=True, exist_ok=True)
    (media / relative).write_bytes(png_bytes())
    payment = Payment(
        registration_id=registration.id,
        status=PaymentStatus.SUBMITTED.value,
        source="photo",
        image_path=relative,
        sha256=secrets.token_hex(32),
        flags=flags or {},
    )
    session.add(payment)
    session.flush()
    session.add(PaymentImage(payment_id=payment.id, path=relative, sha256=payment.sha256 or ""))
    session.flush()
    return payment


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
