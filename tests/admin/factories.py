"""Plain data helpers for admin tests: the demo event plus registrations, payments and staff."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from core.services import demo, staff

PASSWORD = "correct horse battery"
ACTIVE = {s.value for s in ACTIVE_STATUSES}


def suffix() -> str:
    return secrets.token_hex(3)


def seed_event(session: Session) -> Event:
    """The demo event (3 categories, jersey stock, a BCA account, an admin)."""
    result = demo.seed(session, admin_password=PASSWORD)
    event = session.get(Event, result.event_id)
    assert event is not None
    return event


def category(session: Session, event: Event, code: str = "5K") -> Category:
    return session.scalars(
        select(Category).where(Category.event_id == event.id, Category.code == code)
    ).one()


def make_staff(session: Session, role: Role, *, password: str = PASSWORD) -> AdminUser:
    return staff.create(
        session,
        email=f"{role.value}-{suffix()}@example.test",
        password=password,
        role=role,
        name=f"{role.value.title()} {suffix()}",
        actor="test",
    )


def make_registration(
    session: Session,
    event: Event,
    *,
    code: str = "5K",
    status: RegistrationStatus = RegistrationStatus.AWAITING_VERIFICATION,
    name: str | None = None,
    jersey: str = "M",
    channel: str = "telegram",
    unique_code: int | None = None,
) -> Registration:
    """A registration holding a slot and a jersey (when active), with its participant."""
    cat = category(session, event, code)
    participant = Participant(
        event_id=event.id,
        full_name=name or f"Runner {suffix()}",
        gender="F",
        email=f"runner-{suffix()}@example.test",
        phone="62812" + str(secrets.randbelow(10**7)).zfill(7),
        jersey_size=jersey,
        answers={"full_name": name or "Runner", "jersey_size": jersey},
    )
    session.add(participant)
    session.flush()
    code_value = unique_code if unique_code is not None else 1 + secrets.randbelow(998)
    amount = cat.price + code_value
    awaiting = status.value in (
        RegistrationStatus.PENDING_PAYMENT,
        RegistrationStatus.AWAITING_VERIFICATION,
    )
    reg = Registration(
        number=f"{cat.reg_prefix}-{suffix().upper()}",
        event_id=event.id,
        category_id=cat.id,
        participant_id=participant.id,
        status=status.value,
        channel=channel,
        chat_id=str(secrets.randbelow(10**9)),
        price=cat.price,
        unique_code=code_value,
        amount_due=amount,
        amount_key=amount if awaiting else None,
        payment_deadline=utcnow() + timedelta(hours=24),
    )
    session.add(reg)
    if status.value in ACTIVE:
        cat.slots_taken += 1
        stock = session.scalars(
            select(JerseyStock).where(JerseyStock.event_id == event.id, JerseyStock.size == jersey)
        ).one()
        stock.taken += 1
    session.flush()
    return reg


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
