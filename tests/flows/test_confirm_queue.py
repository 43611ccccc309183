"""The rush fast path: the per-category FIFO queue lock and the cheap unique-code pick."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core import demo
from core.db import get_engine, unit_of_work, utcnow
from core.enums import UniqueCodeMode
from core.errors import SoldOut
from core.models import Category, Event, JerseyStock
from core.payments import amounts
from core.registration import intake, stock
from tests.flows.test_registrations_service import submission


def _held_elsewhere(key: int) -> bool:
    with get_engine().connect() as other:
        return not other.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key})


def test_submit_queues_on_its_category_lock_until_commit(session: Session, event: Event) -> None:
    intake.submit(session, submission=submission(event, "a@example.com"), now=utcnow())
    assert _held_elsewhere(stock.category_turn_key(event.id, "10k"))
    assert not _held_elsewhere(stock.category_turn_key(event.id, "5K"))


def test_free_code_finds_the_last_code_left(session: Session, event: Event) -> None:
    event.unique_code_mode = UniqueCodeMode.SUBTRACT.value
    regs = [
        intake.submit(session, submission=submission(event, f"r{n}@example.com"), now=utcnow())
        for n in range(9)
    ]
    for reg in regs:
        reg.price = 10  # codes 1-9 only: eight taken below, code 5 left
    for reg, code in zip(regs[1:], (1, 2, 3, 4, 6, 7, 8, 9), strict=True):
        reg.amount_key = reg.amount_due = 10 - code
    session.flush()
    picks = {amounts._free_code(session, regs[0], UniqueCodeMode.SUBTRACT) for _ in range(20)}
    assert picks == {5}
    amounts.assign_amount(session, registration=regs[0], now=utcnow())
    assert (regs[0].unique_code, regs[0].amount_key) == (5, 5)
    assert regs[0].payment_deadline is not None


@pytest.mark.usefixtures("committed_db")
def test_category_lock_rereads_counts_the_session_already_loaded() -> None:
    with unit_of_work() as uow:
        event_id = demo.seed(uow.session, admin_password="queue-password-123").event_id
    with unit_of_work() as uow:
        # As the flow does: its catalogue snapshot loads the category before confirm locks it.
        stale = uow.session.scalars(
            select(Category).where(Category.event_id == event_id, Category.code == "10K")
        ).one()
        with get_engine().begin() as other:  # another runner's confirmation commits meanwhile
            other.execute(
                text("UPDATE categories SET slots_taken = slots_taken + 1 WHERE id = :i"),
                {"i": stale.id},
            )
        seen = stale.slots_taken
        locked = stock.lock_category(uow.session, event_id=event_id, code="10K")
        assert locked.slots_taken == seen + 1


@pytest.mark.usefixtures("committed_db")
def test_turn_lock_and_category_row_in_one_statement_read_the_row_as_it_is_now() -> None:
    with unit_of_work() as uow:
        event_id = demo.seed(uow.session, admin_password="queue-password-123").event_id
    with unit_of_work() as uow:
        stale = uow.session.scalars(
            select(Category).where(Category.event_id == event_id, Category.code == "10K")
        ).one()
        seen = stale.slots_taken
        with get_engine().begin() as other:  # committed after this session's snapshot
            other.execute(
                text("UPDATE categories SET slots_taken = slots_taken + 1 WHERE id = :i"),
                {"i": stale.id},
            )
        locked = stock.lock_category(uow.session, event_id=event_id, code="10k", turn=True)
        assert locked.slots_taken == seen + 1
        assert _held_elsewhere(stock.category_turn_key(event_id, "10K"))


def test_jersey_taken_in_one_update_brings_a_loaded_row_up_to_date(
    session: Session, event: Event
) -> None:
    loaded = session.scalars(
        select(JerseyStock).where(JerseyStock.event_id == event.id, JerseyStock.size == "M")
    ).one()
    before = loaded.taken
    intake.submit(session, submission=submission(event, "jersey@example.com"), now=utcnow())
    assert loaded.taken == before + 1 and not session.dirty
    in_db = session.execute(
        text("SELECT taken FROM jersey_stock WHERE id = :i"), {"i": loaded.id}
    ).scalar_one()
    assert in_db == before + 1


def test_submit_and_amount_leave_clean_loaded_objects(session: Session, event: Event) -> None:
    """The rows are written by single statements; the objects agree and nothing is left to flush."""
    now = utcnow()
    reg = intake.submit(session, submission=submission(event, "clean@example.com"), now=now)
    amounts.assign_amount(session, registration=reg, now=now)
    assert not session.dirty and not session.new
    row = session.execute(
        text("SELECT number, amount_key, amount_due, unique_code, payment_deadline, participant_id"
             " FROM registrations WHERE id = :i"), {"i": reg.id},
    ).one()  # fmt: skip
    assert row.number == reg.number and row.amount_key == reg.amount_key == reg.amount_due
    assert row.unique_code == reg.unique_code and 1 <= reg.unique_code <= 999
    assert row.payment_deadline == reg.payment_deadline
    assert row.participant_id == reg.participant.id and reg.event is event
    logged = session.execute(
        text("SELECT count(*) FROM audit_log WHERE action = 'registration.submitted'"
             " AND subject_id = :i"), {"i": str(reg.id)},
    ).scalar_one()  # fmt: skip
    assert logged == 1


def test_first_registration_of_a_category_is_number_one(session: Session, event: Event) -> None:
    session.execute(text("DELETE FROM sequences"))
    first = intake.submit(session, submission=submission(event, "s1@example.com"), now=utcnow())
    second = intake.submit(session, submission=submission(event, "s2@example.com"), now=utcnow())
    assert first.number.endswith("-00001") and second.number.endswith("-00002")


def test_a_sold_out_jersey_takes_no_slot(session: Session, event: Event) -> None:
    """Slot and jersey are one statement: no jersey left, no row changed, SoldOut(jersey)."""
    session.execute(
        text("UPDATE jersey_stock SET taken = stock WHERE event_id = :e AND size = 'M'"),
        {"e": event.id},
    )
    slots = "SELECT slots_taken FROM categories WHERE event_id = :e AND code = '10K'"
    before = session.execute(text(slots), {"e": event.id}).scalar_one()
    with pytest.raises(SoldOut) as refused:
        intake.submit(session, submission=submission(event, "m@example.com"), now=utcnow())
    assert refused.value.params["kind"] == "jersey"
    assert session.execute(text(slots), {"e": event.id}).scalar_one() == before
