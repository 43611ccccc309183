"""Plain test-data builders shared by every test package: demo event, participants, registrations."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import demo
from core.enums import RegistrationStatus
from core.models import Category, Event, JerseyStock, Participant, Registration

DEMO_PASSWORD = "demo-password-123"


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


def demo_event(session: Session, *, admin_password: str = DEMO_PASSWORD) -> Event:
    """Seed (or find) the demo event and return it."""
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


def make_participant(session: Session, event: Event, **fields: Any) -> Participant:
    """A participant with a random name; keyword arguments set any other column."""
    participant = Participant(
        **({"event_id": event.id, "full_name": f"Runner {suffix()}"} | fields)
    )
    session.add(participant)
    session.flush()
    return participant


def make_registration(
    session: Session,
    event: Event,
    *,
    code: str = "5K",
    status: RegistrationStatus = RegistrationStatus.AWAITING_VERIFICATION,
    participant: Participant | None = None,
    hold: bool = False,
    **fields: Any,
) -> Registration:
    """A registration in ``code``'s category; ``hold`` takes a slot and the participant's jersey."""
    cat = category(session, event, code)
    participant = participant or make_participant(session, event)
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
    registration = Registration(**(defaults | fields))
    session.add(registration)
    if hold:
        cat.slots_taken += 1
        if participant.jersey_size:
            jersey(session, event, participant.jersey_size).taken += 1
    session.flush()
    return registration
