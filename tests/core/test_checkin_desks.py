"""Check-in desks: opened with the event PIN, throttled against guessing, revocable."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import unit_of_work
from core.fulfilment import desks
from core.fulfilment.desks import DeskOutcome
from core.models import LoginAttempt
from core.staff.accounts import hash_password
from tests.factories import demo_event

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def _open(session: Session, event_id: int, pin: str, address: str = "10.0.0.1", now=NOW):  # type: ignore[no-untyped-def]
    return desks.open_desk(
        session, event_id=event_id, pin=pin, name="Desk 2", address=address, now=now
    )


def test_event_without_pin_cannot_open_desks(session: Session) -> None:
    event = demo_event(session)
    assert _open(session, event.id, "1234").outcome is DeskOutcome.NO_PIN


def test_right_pin_opens_a_revocable_desk(session: Session) -> None:
    event = demo_event(session)
    event.checkin_pin_hash = hash_password("482916")
    opening = _open(session, event.id, "482916")
    assert opening.outcome is DeskOutcome.OPENED and opening.token and opening.desk
    assert opening.desk.token_hash != opening.token
    assert desks.find_desk(session, opening.token) is opening.desk
    assert desks.find_desk(session, opening.token + "x") is None

    assert desks.revoke_desk(session, desk_id=opening.desk.id, actor="staff:1", now=NOW)
    assert desks.find_desk(session, opening.token) is None
    assert not desks.revoke_desk(session, desk_id=opening.desk.id, actor="staff:1", now=NOW)


def test_pin_guessing_is_throttled_per_address_and_per_event(session: Session) -> None:
    event = demo_event(session)
    event.checkin_pin_hash = hash_password("482916")
    for guess in range(desks.MAX_PER_ADDRESS):
        assert _open(session, event.id, f"{guess:06d}").outcome is DeskOutcome.WRONG_PIN
    # Even the right PIN is refused from this address until the window passes.
    assert _open(session, event.id, "482916").outcome is DeskOutcome.THROTTLED
    later = NOW + desks.WINDOW + timedelta(seconds=1)
    assert _open(session, event.id, "482916", now=later).outcome is DeskOutcome.OPENED

    for n in range(desks.MAX_PER_EVENT):
        _open(session, event.id, "000000", address=f"10.1.{n}.1", now=later)
    fresh = _open(session, event.id, "482916", address="10.9.9.9", now=later)
    assert fresh.outcome is DeskOutcome.THROTTLED


def test_parallel_guesses_cannot_exceed_the_limit(committed_db: None) -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        event.checkin_pin_hash = hash_password("482916")
        event_id = event.id
    guesses = desks.MAX_PER_ADDRESS + 5
    barrier = threading.Barrier(guesses)

    def guess(n: int) -> DeskOutcome:
        barrier.wait()
        with unit_of_work(lock_timeout="30s") as uow:
            return _open(uow.session, event_id, f"{n:06d}").outcome

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        outcomes = list(pool.map(guess, range(guesses)))

    assert outcomes.count(DeskOutcome.WRONG_PIN) == desks.MAX_PER_ADDRESS
    assert outcomes.count(DeskOutcome.THROTTLED) == guesses - desks.MAX_PER_ADDRESS
    with unit_of_work() as uow:
        recorded = uow.session.scalar(
            select(func.count()).where(LoginAttempt.key == f"pin:{event_id}:10.0.0.1")
        )
        assert recorded == desks.MAX_PER_ADDRESS
