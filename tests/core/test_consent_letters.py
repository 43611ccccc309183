"""Minors' consent letters: the ticket gate, accept and reject, a replacement photo (PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import LetterStatus, RegistrationStatus
from core.errors import Conflict
from core.fulfilment import consent
from core.models import ConsentLetter, OutboundMessage, Registration
from core.payments import verification
from tests.factories import (
    NOW,
    UNPAID,
    demo_event,
    encode,
    inbound,
    later,
    make_registration,
    make_staff,
    screenshot,
    send_photo,
)


def _minor(session: Session, *, letter: bool = True) -> Registration:
    event = demo_event(session)
    event.minor_age = 17
    born = date(event.race_date.year - 12, 1, 1)
    reg = make_registration(session, event, **UNPAID)
    reg.participant.date_of_birth = born
    session.flush()
    if letter:
        path = consent.store_photo(inbound(encode(screenshot())))
        consent._add(session, reg, path, NOW)
    return reg


def _approve(session: Session, reg: Registration) -> None:
    payment = send_photo(session, reg, hours=1).payment
    assert payment is not None
    verification.approve(session, payment_id=payment.id, actor=make_staff(session), now=later(2))


def test_no_ticket_until_the_letter_is_accepted(session: Session) -> None:
    reg = _minor(session)
    _approve(session, reg)
    assert reg.status == RegistrationStatus.PAID.value and reg.bib and reg.ticket_token is None
    texts = session.scalars(select(OutboundMessage.text)).all()
    assert any("setelah surat izin orang tua diterima" in text for text in texts)
    letter = consent.latest(session, reg.id)
    assert letter is not None
    _, outbound, issued = consent.accept(session, letter_id=letter.id, actor="v@x", now=later(3))
    assert issued and reg.ticket_token and letter.status == LetterStatus.ACCEPTED.value
    assert "diterima" in outbound[0].text


def test_an_adult_gets_the_ticket_at_approval(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    reg.event.minor_age = 17
    _approve(session, reg)
    assert reg.ticket_token is not None


def test_a_minor_without_any_letter_gets_no_ticket(session: Session) -> None:
    reg = _minor(session, letter=False)
    _approve(session, reg)
    assert reg.status == RegistrationStatus.PAID.value and reg.ticket_token is None


def test_rejecting_asks_for_a_new_photo_which_the_chat_takes(session: Session) -> None:
    reg = _minor(session)
    letter = consent.latest(session, reg.id)
    assert letter is not None
    _, [message] = consent.reject(
        session, letter_id=letter.id, actor="v@x", note="Tanda tangan tidak ada", now=later(1)
    )
    assert "Tanda tangan tidak ada" in message.text and "foto" in message.text
    waiting = consent.awaiting_new_letter(session, channel=reg.channel, chat_id=reg.chat_id)
    assert waiting == [reg]
    key = consent.receive_new_letter(
        session, registration=reg, inbound_path=inbound(encode(screenshot())), now=later(2)
    )
    assert key == "questions.letter.received_again"
    newest = consent.latest(session, reg.id)
    assert newest is not None and newest.id != letter.id
    assert newest.status == LetterStatus.SUBMITTED.value
    assert consent.awaiting_new_letter(session, channel=reg.channel, chat_id=reg.chat_id) == []


def test_a_letter_is_judged_once(session: Session) -> None:
    reg = _minor(session)
    letter = consent.latest(session, reg.id)
    assert letter is not None
    consent.accept(session, letter_id=letter.id, actor="v@x", now=later(1))
    with pytest.raises(Conflict):
        consent.reject(session, letter_id=letter.id, actor="w@x", note="", now=later(1))
    assert session.scalars(select(ConsentLetter.status)).all() == [LetterStatus.ACCEPTED.value]
    assert session.scalars(select(OutboundMessage)).all()
