"""Seed the demo event "Jakarta Fun Run" (idempotent: a second run creates nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.enums import EventStatus, Role
from core.models import Category, Event, JerseyStock, PaymentAccount
from core.staff import accounts

DEMO_SLUG = "jakarta-fun-run"
DEMO_ADMIN = "admin@funrun.local"

CATEGORIES = (
    # code, name, km, price, quota, min_age, max_age, bib_start, bib_end
    ("5K", "Fun Run 5K", 5, 150_000, 2000, 10, None, 5001, 9999),
    ("10K", "10K Race", 10, 250_000, 1500, 15, None, 10001, 14999),
    ("21K", "Half Marathon 21K", 21.1, 400_000, 800, 17, 70, 21001, 22999),
)
JERSEY = (("XS", 200), ("S", 800), ("M", 1200), ("L", 1200), ("XL", 600), ("XXL", 300))


@dataclass(frozen=True)
class DemoResult:
    created: bool
    event_id: int
    admin_email: str
    admin_password: str | None  # only when the admin was created now


def seed(session: Session, *, admin_password: str | None = None) -> DemoResult:
    """Create the demo event, categories, jersey stock, a bank account and an admin user."""
    event = session.scalar(select(Event).where(Event.slug == DEMO_SLUG))
    created = event is None
    if event is None:
        event = _create_event(session)
    password = None
    if accounts.find_by_email(session, DEMO_ADMIN) is None:
        password = admin_password or accounts.generate_password()
        accounts.create(
            session,
            email=DEMO_ADMIN,
            password=password,
            role=Role.ADMIN,
            name="Demo Admin",
            actor="demo",
        )
    return DemoResult(
        created=created, event_id=event.id, admin_email=DEMO_ADMIN, admin_password=password
    )


def _create_event(session: Session) -> Event:
    now = utcnow()
    race_day = date.today() + timedelta(days=60)
    event = Event(
        slug=DEMO_SLUG,
        name="Jakarta Fun Run",
        race_date=race_day,
        race_start_time="05:30",
        venue="Gelora Bung Karno, Jakarta",
        status=EventStatus.OPEN.value,
        registration_opens_at=now - timedelta(days=1),
        registration_closes_at=now + timedelta(days=45),
        pickup_info="Pengambilan race pack: 2 hari sebelum lomba, 10:00-20:00 WIB, Senayan City",
    )
    session.add(event)
    session.flush()
    for order, (code, name, km, price, quota, min_age, max_age, start, end) in enumerate(
        CATEGORIES
    ):
        session.add(
            Category(
                event_id=event.id,
                code=code,
                name=name,
                distance_km=km,
                price=price,
                quota=quota,
                min_age=min_age,
                max_age=max_age,
                bib_start=start,
                bib_end=end,
                bib_prefix="",
                reg_prefix=f"JFR-{code}",
                sort_order=order,
            )
        )
    for order, (size, stock) in enumerate(JERSEY):
        session.add(JerseyStock(event_id=event.id, size=size, stock=stock, sort_order=order))
    session.add(
        PaymentAccount(
            event_id=event.id,
            kind="bank",
            bank_name="BCA",
            account_number="1234567890",
            holder_name="Yayasan Lari Jakarta",
        )
    )
    session.flush()
    return event
