"""Factories for fulfilment, ticket and check-in tests: registrations built directly from models."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.models import Category, Event, Participant, Registration
from core.services import demo


def demo_event(session: Session) -> Event:
    """Seed (or find) the demo event and return it."""
    result = demo.seed(session, admin_password="demo-password-123")
    event = session.get(Event, result.event_id)
    assert event is not None
    return event


def category(session: Session, event: Event, code: str = "10K") -> Category:
    return session.scalars(
        select(Category).where(Category.event_id == event.id, Category.code == code)
    ).one()


def make_registration(
    session: Session,
    event: Event,
    *,
    code: str = "10K",
    status: RegistrationStatus = RegistrationStatus.AWAITING_VERIFICATION,
    full_name: str | None = None,
    email: str | None = None,
    jersey_size: str = "M",
    channel: str = "telegram",
    chat_id: str | None = None,
    language: str = "id",
) -> Registration:
    """Create a participant and a registration in ``code``'s category (random identifiers)."""
    cat = category(session, event, code)
    suffix = secrets.token_hex(4).upper()
    participant = Participant(
        event_id=event.id,
        full_name=full_name or f"Runner {suffix}",
        email=email,
        jersey_size=jersey_size,
        phone="62812" + str(secrets.randbelow(10**7)).zfill(7),
    )
    session.add(participant)
    session.flush()
    registration = Registration(
        number=f"{cat.reg_prefix}-{suffix}",
        event_id=event.id,
        category_id=cat.id,
        participant_id=participant.id,
        status=status.value,
        channel=channel,
        chat_id=chat_id or str(10**8 + secrets.randbelow(10**8)),
        language=language,
        price=cat.price,
        unique_code=123,
        amount_due=cat.price + 123,
        amount_key=cat.price + 123 + secrets.randbelow(10**6),
    )
    session.add(registration)
    session.flush()
    return registration
