"""The rush fast path: the per-category FIFO queue lock and the cheap unique-code pick."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from core import demo
from core.db import get_engine, unit_of_work, utcnow
from core.enums import UniqueCodeMode
from core.models import Category, Event
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
