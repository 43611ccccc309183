"""Two desks scanning one ticket at the same moment on PostgreSQL: one check-in row."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, select

from core.db import unit_of_work
from core.models import CheckIn, ScanLog
from core.services import checkin, fulfilment
from core.services.checkin import Outcome, Scan
from tests.core.fulfilment_factories import demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DESKS = 6


def test_concurrent_scans_of_one_ticket_give_one_checkin(committed_db: None) -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        reg = make_registration(uow.session, event)
        fulfilment.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
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
