"""The database itself refuses what must never happen."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import demo
from core.enums import Channel
from core.models import Category, Event, InboundUpdate, Participant, Registration


def _registration(session: Session, number: str, **extra: object) -> Registration:
    event_id = demo.seed(session, admin_password="x" * 12).event_id
    category = session.query(Category).filter_by(event_id=event_id, code="5K").one()
    person = Participant(
        event_id=event_id, full_name="Siti Aminah", date_of_birth=date(1990, 8, 17)
    )
    session.add(person)
    session.flush()
    reg = Registration(
        number=number,
        event_id=event_id,
        category_id=category.id,
        participant_id=person.id,
        channel="whatsapp",
        chat_id="6281234567890",
        price=150_000,
        amount_due=150_123,
        **extra,
    )
    session.add(reg)
    session.flush()
    return reg


def test_duplicate_registration_number_refused(session: Session) -> None:
    _registration(session, "JFR-5K-00001")
    with pytest.raises(IntegrityError), session.begin_nested():
        _registration(session, "JFR-5K-00001")


def test_duplicate_bib_in_one_event_refused(session: Session) -> None:
    _registration(session, "JFR-5K-00001", bib="5001")
    with pytest.raises(IntegrityError), session.begin_nested():
        _registration(session, "JFR-5K-00002", bib="5001")


def test_same_bib_allowed_in_another_event(session: Session) -> None:
    first = _registration(session, "JFR-5K-00001", bib="5001")
    other = Event(slug="bandung-run", name="Bandung Run", race_date=date(2027, 1, 10))
    session.add(other)
    session.flush()
    category = Category(
        event_id=other.id,
        code="5K",
        name="5K",
        price=1,
        quota=1,
        bib_start=5001,
        bib_end=5002,
        reg_prefix="BR-5K",
    )
    session.add(category)
    session.flush()
    reg = Registration(
        number="BR-5K-00001",
        event_id=other.id,
        category_id=category.id,
        participant_id=first.participant_id,
        channel="telegram",
        chat_id="42",
        price=1,
        amount_due=1,
        bib="5001",
    )
    session.add(reg)
    session.flush()  # the bib is unique per event, not across events: no IntegrityError
    stored = session.scalars(select(Registration.event_id).where(Registration.bib == "5001"))
    assert sorted(stored) == sorted([first.event_id, other.id])


def test_duplicate_pending_amount_in_event_refused(session: Session) -> None:
    _registration(session, "JFR-5K-00001", amount_key=150_123)
    with pytest.raises(IntegrityError), session.begin_nested():
        _registration(session, "JFR-5K-00002", amount_key=150_123)


def test_duplicate_inbound_update_refused(session: Session) -> None:
    session.add(
        InboundUpdate(channel=Channel.TELEGRAM.value, external_id="912345678", chat_id="42")
    )
    session.flush()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(
            InboundUpdate(channel=Channel.TELEGRAM.value, external_id="912345678", chat_id="42")
        )
        session.flush()


def test_same_external_id_on_other_channel_allowed(session: Session) -> None:
    session.add(InboundUpdate(channel=Channel.TELEGRAM.value, external_id="1", chat_id="42"))
    session.add(InboundUpdate(channel=Channel.WHATSAPP.value, external_id="1", chat_id="628"))
    session.flush()  # the external id is unique per channel only: no IntegrityError
    stored = session.scalars(select(InboundUpdate.channel).where(InboundUpdate.external_id == "1"))
    assert sorted(stored) == sorted([Channel.TELEGRAM.value, Channel.WHATSAPP.value])
