"""Factories for fulfilment, ticket and check-in tests: the shared builders with 10K defaults."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.models import Category, Event, Registration
from tests import factories
from tests.factories import demo_event

__all__ = ["category", "demo_event", "make_registration"]


def category(session: Session, event: Event, code: str = "10K") -> Category:
    return factories.category(session, event, code)


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
    participant = factories.make_participant(
        session,
        event,
        full_name=full_name or f"Runner {factories.suffix(4).upper()}",
        email=email,
        jersey_size=jersey_size,
        phone=factories.random_phone(),
    )
    price = category(session, event, code).price
    return factories.make_registration(
        session,
        event,
        code=code,
        status=status,
        participant=participant,
        channel=channel,
        chat_id=chat_id or factories.random_chat_id(),
        language=language,
        unique_code=123,
        amount_due=price + 123,
        amount_key=price + 1000 * factories.next_unique_code(),
    )
