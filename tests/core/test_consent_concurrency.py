"""Races on PostgreSQL: a letter accepted while the payment is approved; two verifiers, one letter."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import select

from core.db import unit_of_work
from core.enums import LetterStatus
from core.errors import Conflict
from core.fulfilment import consent, paid
from core.models import ConsentLetter, Registration
from tests.factories import demo_event, encode, inbound, make_registration, screenshot

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
ROUNDS = 4


def _minors(count: int) -> list[tuple[int, int]]:
    """(registration id, letter id) of ``count`` minors, each with one submitted letter."""
    out = []
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        event.minor_age = 17
        for _ in range(count):
            reg = make_registration(uow.session, event, code="5K")
            reg.participant.date_of_birth = date(event.race_date.year - 12, 1, 1)
            path = consent.store_photo(inbound(encode(screenshot())))
            out.append((reg.id, consent._add(uow.session, reg, path, NOW).id))
    return out


def _run_together(*jobs: Callable[[], None]) -> list[Exception]:
    barrier = threading.Barrier(len(jobs))
    errors: list[Exception] = []

    def run(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def _approve(registration_id: int) -> None:
    with unit_of_work(lock_timeout="30s") as uow:
        reg = uow.session.get(Registration, registration_id, with_for_update=True)
        assert reg is not None
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)


def _accept(letter_id: int) -> None:
    with unit_of_work(lock_timeout="30s") as uow:
        consent.accept(uow.session, letter_id=letter_id, actor="v", now=NOW)


def _reject(letter_id: int) -> None:
    with unit_of_work(lock_timeout="30s") as uow:
        consent.reject(uow.session, letter_id=letter_id, actor="w", note="", now=NOW)


def test_letter_accepted_while_the_payment_is_approved_gives_one_ticket(
    committed_db: None,
) -> None:
    for reg_id, letter_id in _minors(ROUNDS):
        errors = _run_together(lambda r=reg_id: _approve(r), lambda li=letter_id: _accept(li))
        assert not errors
        with unit_of_work() as uow:
            reg = uow.session.get(Registration, reg_id)
            assert reg is not None and reg.ticket_token and reg.ticket_version == 1


def test_two_verifiers_judge_one_letter_once(committed_db: None) -> None:
    [(_reg_id, letter_id)] = _minors(1)
    errors = _run_together(lambda: _accept(letter_id), lambda: _reject(letter_id))
    assert len(errors) == 1 and isinstance(errors[0], Conflict)
    with unit_of_work() as uow:
        [status] = uow.session.scalars(select(ConsentLetter.status)).all()
        assert status in (LetterStatus.ACCEPTED.value, LetterStatus.REJECTED.value)
