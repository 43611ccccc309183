"""The waiting list on PostgreSQL: join, positions, offers on a freed slot, holds used, lapses, races."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.errors import SoldOut
from core.models import Category, Event, OutboundMessage, Registration
from core.models.waitlist import WaitlistEntry
from core.registration import intake, manage, waitlist
from tests import factories as f


def _full(session: Session, event: Event, code: str = "5K", taken: int = 2) -> list[Registration]:
    """Make ``code`` sold out with ``taken`` paid-for registrations."""
    cat = f.category(session, event, code)
    regs = [f.make_registration(session, event, code=code) for _ in range(taken)]
    cat.quota = cat.slots_taken
    session.flush()
    return regs


def _join(session: Session, event: Event, code: str = "5K", size: str | None = None) -> Any:
    chat = {"channel": "telegram", "chat_id": f.random_chat_id(), "conversation_id": None,
            "language": "id", "name": "Siti"}  # fmt: skip
    answers = {"category": code, "full_name": "Siti Aminah", "jersey_size": size or "M"}
    return waitlist.join(session, category=f.category(session, event, code), jersey_size=size,
                         chat=chat, answers=answers, now=utcnow())  # fmt: skip


def _submission(entry: WaitlistEntry, event: Event) -> intake.Submission:
    answers = dict(entry.answers, email=f"w-{f.suffix()}@example.test")
    return intake.Submission(event_id=event.id, category_code=answers["category"],
                             answers=answers, channel=entry.channel, chat_id=entry.chat_id)  # fmt: skip


def test_join_gives_positions_and_a_second_join_is_the_same_entry(session: Session) -> None:
    event = f.demo_event(session)
    _full(session, event)
    first, second = _join(session, event), _join(session, event)
    assert (first.position, second.position) == (1, 2)
    again = waitlist.join(session, category=f.category(session, event), jersey_size=None,
                          chat={"channel": "telegram", "chat_id": first.entry.chat_id},
                          answers={}, now=utcnow())  # fmt: skip
    assert again.already and again.entry.id == first.entry.id
    assert [e.id for e in waitlist.participants(session, event_id=event.id)] == [
        first.entry.id,
        second.entry.id,
    ]


def test_a_cancelled_slot_is_held_for_the_first_runner_and_used_at_confirm(
    session: Session,
) -> None:
    event = f.demo_event(session)
    regs = _full(session, event)
    first, second = _join(session, event), _join(session, event)
    manage.cancel(session, registration_id=regs[0].id, actor="admin", reason="t", now=utcnow())
    cat = f.category(session, event)
    assert first.entry.status == "offered" and second.entry.status == "waiting"
    assert cat.slots_left == 0  # the freed slot is held, not for sale
    assert waitlist.position(session, second.entry) == 1
    offer = session.scalars(
        select(OutboundMessage).where(OutboundMessage.recipient == first.entry.chat_id)
    ).one()
    assert "ditahan" in offer.text
    with pytest.raises(SoldOut):  # anyone else still finds the category full
        intake.submit(session, submission=_submission(second.entry, event), now=utcnow())
    registration = intake.submit(session, submission=_submission(first.entry, event), now=utcnow())
    assert registration.status == RegistrationStatus.PENDING_PAYMENT.value
    assert first.entry.status == "registered" and first.entry.registration_id == registration.id
    assert cat.slots_taken == cat.quota


def test_a_lapsed_hold_goes_to_the_next_runner(session: Session) -> None:
    event = f.demo_event(session)
    event.waitlist_hold_hours = 2
    regs = _full(session, event)
    first, second = _join(session, event), _join(session, event)
    manage.cancel(session, registration_id=regs[0].id, actor="admin", reason="t", now=utcnow())
    assert first.entry.hold_until - first.entry.offered_at == timedelta(hours=2)
    assert [r.recipient for r in waitlist.pending_outbound(session)] == [first.entry.chat_id]
    assert waitlist.lapse_due(session, now=utcnow() + timedelta(hours=1)) == []
    rows = waitlist.lapse_due(session, now=utcnow() + timedelta(hours=3))
    session.refresh(first.entry)
    session.refresh(second.entry)
    assert (first.entry.status, second.entry.status) == ("lapsed", "offered")
    assert {r.recipient for r in rows} == {first.entry.chat_id, second.entry.chat_id}
    cat = f.category(session, event)
    assert cat.slots_taken == cat.quota  # the slot moved from one hold to the next
    assert waitlist.accept(session, first.entry, now=utcnow()) is False


def test_a_slot_left_by_a_category_change_is_offered(session: Session) -> None:
    event = f.demo_event(session)
    regs = _full(session, event)
    waiting = _join(session, event)
    ten_k = f.category(session, event, "10K")
    manage.move_category(session, registration_id=regs[0].id, category_id=ten_k.id, actor="admin")
    assert waiting.entry.status == "offered"
    assert f.category(session, event).slots_left == 0


def test_a_runner_waiting_for_a_size_gets_that_size_when_it_frees(session: Session) -> None:
    event = f.demo_event(session)
    stock_m = f.jersey(session, event, "M")
    regs = [f.make_registration(session, event, code="10K", jersey_size="M") for _ in range(2)]
    stock_m.stock = stock_m.taken
    session.flush()
    sized = _join(session, event, "10K", size="M")
    manage.cancel(session, registration_id=regs[1].id, actor="admin", reason="t", now=utcnow())
    assert sized.entry.status == "offered" and sized.entry.held_jersey == "M"
    assert stock_m.left == 0
    registration = intake.submit(session, submission=_submission(sized.entry, event), now=utcnow())
    assert registration.participant.jersey_size == "M" and stock_m.left == 0


# --- the race: two slots freed at once, three runners waiting ----------------------------------


@pytest.mark.usefixtures("committed_db")
def test_two_slots_freed_at_once_go_to_two_different_runners() -> None:
    with unit_of_work() as uow:
        event = f.demo_event(uow.session)
        regs = [r.id for r in _full(uow.session, event, taken=2)]
        entries = [_join(uow.session, event).entry.id for _ in range(3)]
        event_id = event.id
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def cancel(registration_id: int) -> None:
        try:
            with unit_of_work() as uow:
                barrier.wait(timeout=10)
                manage.cancel(uow.session, registration_id=registration_id, actor="admin",
                              reason="race", now=utcnow())  # fmt: skip
        except BaseException as exc:  # noqa: BLE001  (asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=cancel, args=(rid,)) for rid in regs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with unit_of_work() as uow:
        rows = {e.id: e.status for e in uow.session.scalars(select(WaitlistEntry))}
        cat = uow.session.scalars(
            select(Category).where(Category.event_id == event_id, Category.code == "5K")
        ).one()
        assert [rows[i] for i in entries] == ["offered", "offered", "waiting"]
        assert cat.slots_taken == cat.quota
