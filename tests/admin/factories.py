"""Plain data helpers for admin tests: the demo event plus registrations, payments and staff."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import utcnow
from core.enums import ACTIVE_STATUSES, PaymentStatus, RegistrationStatus, Role
from core.models import AdminUser, Event, Payment, PaymentImage, Registration
from core.staff import accounts
from tests import factories
from tests.factories import category, suffix

PASSWORD = "correct horse battery"
ACTIVE = {s.value for s in ACTIVE_STATUSES}


def seed_event(session: Session) -> Event:
    """The demo event (3 categories, jersey stock, a BCA account, an admin)."""
    return factories.demo_event(session, admin_password=PASSWORD)


def make_staff(session: Session, role: Role, *, password: str = PASSWORD) -> AdminUser:
    return accounts.create(
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
    participant = factories.make_participant(
        session,
        event,
        full_name=name or f"Runner {suffix()}",
        gender="F",
        email=f"runner-{suffix()}@example.test",
        phone=factories.random_phone(),
        jersey_size=jersey,
        answers={"full_name": name or "Runner", "jersey_size": jersey},
    )
    code_value = unique_code if unique_code is not None else factories.next_unique_code()
    amount = category(session, event, code).price + code_value
    awaiting = status.value in (
        RegistrationStatus.PENDING_PAYMENT,
        RegistrationStatus.AWAITING_VERIFICATION,
    )
    return factories.make_registration(
        session,
        event,
        code=code,
        status=status,
        participant=participant,
        hold=status.value in ACTIVE,
        channel=channel,
        unique_code=code_value,
        amount_due=amount,
        amount_key=amount if awaiting else None,
        payment_deadline=utcnow() + timedelta(hours=24),
    )


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
