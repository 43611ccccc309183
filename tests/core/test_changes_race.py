"""A transfer while the old QR is being scanned at check-in (PostgreSQL, threads): one wins."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from core.db import unit_of_work
from core.enums import RegistrationStatus
from core.errors import Conflict
from core.fulfilment import checkin, paid
from core.fulfilment.checkin import Outcome, Scan
from core.models import CheckIn, Registration, RevokedTicket
from core.registration import changes
from core.registration.changes import Who
from tests.factories import demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
ROUNDS = 6


def _paid(count: int) -> list[tuple[int, int, str]]:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        regs = [
            make_registration(
                uow.session, event, code="10K", status=RegistrationStatus.PENDING_PAYMENT
            )
            for _ in range(count)
        ]
        for reg in regs:
            paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        return [(event.id, reg.id, reg.ticket_token or "") for reg in regs]


def _race(event_id: int, reg_id: int, token: str) -> tuple[object, object]:
    barrier = threading.Barrier(2)
    out: dict[str, object] = {}

    def scan() -> None:
        barrier.wait()
        with unit_of_work(lock_timeout="30s") as uow:
            request = Scan(event_id=event_id, code=token, desk="Desk 1")
            out["scan"] = checkin.scan(uow.session, request=request, now=NOW).outcome

    def transfer() -> None:
        barrier.wait()
        try:
            with unit_of_work(lock_timeout="30s") as uow:
                person = {"full_name": "Sari Dewi", "gender": "F"}
                changes.transfer(
                    uow.session, registration_id=reg_id, person=person, who=Who("a"), now=NOW
                )
            out["transfer"] = "done"
        except Conflict as exc:
            out["transfer"] = exc.key

    threads = [threading.Thread(target=f) for f in (scan, transfer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return out.get("scan"), out.get("transfer")


def test_transfer_racing_a_scan_of_the_old_qr_has_exactly_one_winner(committed_db: None) -> None:

    for event_id, reg_id, token in _paid(ROUNDS):
        scanned, transferred = _race(event_id, reg_id, token)
        assert (scanned, transferred) in {
            (Outcome.OK, "changes.collected"),
            (Outcome.TRANSFERRED, "done"),
        }
        with unit_of_work() as uow:
            s = uow.session
            checked = s.scalar(select(func.count()).where(CheckIn.registration_id == reg_id))
            revoked = s.scalar(select(func.count()).where(RevokedTicket.registration_id == reg_id))
            reg = s.get(Registration, reg_id)
            assert reg is not None
            # Consistent afterwards: collected by the old holder, or transferred and not collected.
            assert (checked, revoked) == ((1, 0) if scanned is Outcome.OK else (0, 1))
            assert (reg.participant.full_name == "Sari Dewi") is (scanned is not Outcome.OK)


def _wait_for_row_lock_waiter() -> None:
    from sqlalchemy import text  # noqa: PLC0415 - only this helper needs it

    for _ in range(200):
        with unit_of_work() as uow:
            waiting = uow.session.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype IN ('transactionid', 'tuple') AND NOT granted"
                )
            )
        if waiting:
            return
        threading.Event().wait(0.02)
    raise AssertionError("the second transaction never waited for the row lock")


def test_a_scan_that_read_the_old_qr_before_a_transfer_committed_is_refused(
    committed_db: None,
) -> None:
    ((event_id, reg_id, token),) = _paid(1)
    out: dict[str, object] = {}

    def scan() -> None:
        with unit_of_work(lock_timeout="30s") as uow:
            request = Scan(event_id=event_id, code=token, desk="Desk 1")
            out["scan"] = checkin.scan(uow.session, request=request, now=NOW).outcome

    with unit_of_work() as uow:  # the transfer holds the row while the desk's scan arrives
        person = {"full_name": "Sari Dewi", "gender": "F"}
        changes.transfer(uow.session, registration_id=reg_id, person=person, who=Who("a"), now=NOW)
        thread = threading.Thread(target=scan)
        thread.start()
        _wait_for_row_lock_waiter()
    thread.join(timeout=60)
    assert out["scan"] is Outcome.TRANSFERRED


def test_a_transfer_waiting_behind_a_scan_of_the_old_qr_is_refused(committed_db: None) -> None:
    ((event_id, reg_id, token),) = _paid(1)
    out: dict[str, object] = {}

    def transfer() -> None:
        try:
            with unit_of_work(lock_timeout="30s") as uow:
                person = {"full_name": "Sari Dewi", "gender": "F"}
                changes.transfer(
                    uow.session, registration_id=reg_id, person=person, who=Who("a"), now=NOW
                )
            out["transfer"] = "done"
        except Conflict as exc:
            out["transfer"] = exc.key

    with unit_of_work() as uow:  # the desk's scan holds the row while the transfer arrives
        request = Scan(event_id=event_id, code=token, desk="Desk 1")
        assert checkin.scan(uow.session, request=request, now=NOW).outcome is Outcome.OK
        thread = threading.Thread(target=transfer)
        thread.start()
        _wait_for_row_lock_waiter()
    thread.join(timeout=60)
    assert out["transfer"] == "changes.collected"
