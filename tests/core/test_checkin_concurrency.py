"""Check-in races on PostgreSQL: two desks, one ticket; a retry racing its first request; one nonce, two codes."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select, text

from core.db import unit_of_work
from core.fulfilment import checkin, paid
from core.fulfilment.checkin import Outcome, Scan
from core.models import CheckIn, ScanLog
from tests.factories import demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DESKS = 6


def test_concurrent_scans_of_one_ticket_give_one_checkin(committed_db: None) -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        reg = make_registration(uow.session, event, code="10K")
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        event_id, token = event.id, reg.ticket_token or ""
    barrier = threading.Barrier(DESKS)
    outcomes: list[Outcome] = []
    errors: list[Exception] = []

    def desk(n: int) -> None:
        barrier.wait()
        try:
            with unit_of_work(lock_timeout="30s") as uow:
                request = Scan(event_id=event_id, code=token, desk=f"Desk {n}", nonce=f"nonce-{n}")
                outcomes.append(checkin.scan(uow.session, request=request, now=NOW).outcome)
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(DESKS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sorted(outcomes) == sorted([Outcome.OK] + [Outcome.ALREADY] * (DESKS - 1))
    with unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CheckIn)) == 1
        refused = uow.session.scalar(select(func.count()).where(ScanLog.result == "already"))
        assert refused == DESKS - 1


def _paid_registrations(count: int) -> tuple[int, list[str]]:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        regs = [make_registration(uow.session, event, code="10K") for _ in range(count)]
        for reg in regs:
            paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        return event.id, [reg.number for reg in regs]


def _waiting_advisory_locks() -> int:
    with unit_of_work() as uow:
        return int(
            uow.session.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
            or 0
        )


def test_retry_while_the_first_scan_is_still_running_gets_the_same_answer(
    committed_db: None,
) -> None:
    event_id, (number,) = _paid_registrations(1)
    request = Scan(event_id=event_id, code=number, desk="Desk 3", nonce="retry-nonce-1")
    first_scanned, release = threading.Event(), threading.Event()
    results: dict[str, checkin.ScanResult] = {}
    errors: list[Exception] = []

    def first() -> None:
        try:
            with unit_of_work(lock_timeout="30s") as uow:
                results["first"] = checkin.scan(uow.session, request=request, now=NOW)
                first_scanned.set()
                assert release.wait(20)  # still uncommitted while the retry arrives
        except Exception as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)

    def retry() -> None:
        try:
            with unit_of_work(lock_timeout="30s") as uow:
                results["retry"] = checkin.scan(uow.session, request=request, now=NOW)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    one = threading.Thread(target=first)
    one.start()
    assert first_scanned.wait(20)
    two = threading.Thread(target=retry)
    two.start()
    deadline = time.monotonic() + 20
    while _waiting_advisory_locks() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _waiting_advisory_locks() == 1, "the retry should wait for the first request"
    release.set()
    one.join(timeout=30)
    two.join(timeout=30)

    assert not errors
    assert results["first"].outcome is results["retry"].outcome is Outcome.OK
    assert results["retry"].collected_by_desk == "Desk 3"
    with unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CheckIn)) == 1
        logged = uow.session.scalar(select(func.count()).where(ScanLog.nonce == "retry-nonce-1"))
        assert logged == 1


def test_one_nonce_sent_for_two_registrations_at_once_never_errors(committed_db: None) -> None:
    event_id, numbers = _paid_registrations(2)
    barrier = threading.Barrier(len(numbers))
    outcomes: list[Outcome] = []
    errors: list[Exception] = []

    def desk(number: str) -> None:
        barrier.wait()
        try:
            with unit_of_work(lock_timeout="30s") as uow:
                request = Scan(event_id=event_id, code=number, desk="Desk 1", nonce="shared-n")
                outcomes.append(checkin.scan(uow.session, request=request, now=NOW).outcome)
        except Exception as exc:  # noqa: BLE001 - e.g. a unique violation on checkins.nonce
            errors.append(exc)

    threads = [threading.Thread(target=desk, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors
    assert sorted(outcomes) == sorted([Outcome.OK, Outcome.REUSED_NONCE])
    with unit_of_work() as uow:
        assert uow.session.scalar(select(func.count()).select_from(CheckIn)) == 1
