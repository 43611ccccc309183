"""Concurrent approvals on PostgreSQL: distinct, consecutive BIBs in approval order, none skipped."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import select

from core.db import unit_of_work
from core.enums import RegistrationStatus
from core.fulfilment import paid
from core.models import AuditLog, Registration
from tests.factories import demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
APPROVALS = 24
FAILING = 6  # these transactions roll back after taking a number


class _Abort(Exception):
    pass


def _approve(registration_id: int, fail: bool, barrier: threading.Barrier, errors: list) -> None:
    barrier.wait()
    try:
        with unit_of_work(lock_timeout="30s") as uow:
            reg = uow.session.get(Registration, registration_id, with_for_update=True)
            assert reg is not None
            paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
            if fail:
                raise _Abort
    except _Abort:
        pass
    except Exception as exc:  # noqa: BLE001 - reported to the test thread
        errors.append(exc)


def test_concurrent_approvals_get_distinct_consecutive_bibs(committed_db: None) -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        ids = [make_registration(uow.session, event, code="10K").id for _ in range(APPROVALS)]
    failing = set(ids[:FAILING])
    barrier = threading.Barrier(APPROVALS)
    errors: list[Exception] = []
    threads = [
        threading.Thread(target=_approve, args=(rid, rid in failing, barrier, errors))
        for rid in ids
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors

    with unit_of_work() as uow:
        regs = uow.session.scalars(select(Registration).where(Registration.id.in_(ids))).all()
        paid_bibs = sorted(r.bib_number for r in regs if r.status == RegistrationStatus.PAID.value)
        unpaid = [r for r in regs if r.id in failing]
        audit_bibs = [
            row.after["bib"]
            for row in uow.session.scalars(
                select(AuditLog).where(AuditLog.action == "registration.paid").order_by(AuditLog.id)
            )
        ]
    expected = list(range(10001, 10001 + APPROVALS - FAILING))
    assert (
        paid_bibs == expected
    )  # distinct, consecutive, and no number lost to the rolled-back ones
    assert all(r.bib is None and r.status != RegistrationStatus.PAID.value for r in unpaid)
    # Audit rows are written after the BIB lock is taken, so their order is the approval order.
    assert audit_bibs == [str(n) for n in expected]
