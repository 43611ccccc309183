"""Concurrency on PostgreSQL: unique amounts under parallel confirmations, double approvals."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db import unit_of_work
from core.enums import RegistrationStatus
from core.models import AdminUser, AuditLog, Registration
from core.payments import amounts, verification
from tests.factories import (
    NOW,
    UNPAID,
    demo_event,
    later,
    make_registration,
    make_staff,
    send_photo,
)

pytestmark = pytest.mark.usefixtures("committed_db")


def _race(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run every job in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(jobs))

    def run(job: Callable[[], Any]) -> Any:
        barrier.wait()
        return job()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return [f.result() for f in [pool.submit(run, job) for job in jobs]]


def test_unique_amounts_under_concurrent_confirmations() -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        ids = [
            make_registration(
                uow.session, event, status=RegistrationStatus.PENDING_PAYMENT, amount="none"
            ).id
            for _ in range(40)
        ]

    def confirm(registration_id: int) -> int:
        with unit_of_work() as uow:
            registration = uow.session.get(Registration, registration_id)
            assert registration is not None
            amounts.assign_amount(uow.session, registration=registration, now=NOW)
            return registration.amount_due

    due = _race([lambda rid=rid: confirm(rid) for rid in ids])
    assert len(set(due)) == len(ids), "no two registrations awaiting payment share an amount"
    with unit_of_work() as uow:
        stored = uow.session.scalars(
            select(Registration.amount_key).where(Registration.id.in_(ids))
        ).all()
    assert sorted(stored) == sorted(due)
    assert all(150_001 <= a <= 150_999 for a in due)


def test_double_approval_by_two_verifiers_approves_once() -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        reg = make_registration(uow.session, event, **UNPAID)
        photo = send_photo(uow.session, reg, hours=1)
        assert photo.payment is not None
        payment_id = photo.payment.id
        admin_ids = [make_staff(uow.session).id, make_staff(uow.session).id]

    def approve(admin_id: int) -> bool:
        with unit_of_work() as uow:
            admin = uow.session.get(AdminUser, admin_id)
            assert admin is not None
            result = verification.approve(
                uow.session, payment_id=payment_id, actor=admin, now=later(2)
            )
            return result.changed

    outcomes = _race([lambda a=a: approve(a) for a in admin_ids])
    assert sorted(outcomes) == [False, True]
    with unit_of_work() as uow:
        count = uow.session.scalar(
            select(func.count()).where(AuditLog.action == "payment.approved")
        )
        registration = uow.session.get(Registration, reg.id)
        assert registration is not None and registration.status == "paid"
    assert count == 1
