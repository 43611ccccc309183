"""after_verification: the runner's notice and the e-ticket are enqueued only after commit."""

from __future__ import annotations

from typing import Any

from core.db import unit_of_work
from core.models import AdminUser
from core.payments import verification
from tests.channels.helpers import queued_jobs
from tests.factories import (
    UNPAID,
    demo_event,
    later,
    make_registration,
    make_staff,
    send_photo,
)
from workers import verification as payment_jobs


def _queued(broker: Any, queue: str) -> int:
    """Jobs waiting on ``queue``, besides the screenshot reads every stored photo gets."""
    return queued_jobs(broker, queue)


def test_approval_enqueues_ticket_after_commit(broker: Any, committed_db: None) -> None:
    with unit_of_work() as uow:
        reg = make_registration(uow.session, demo_event(uow.session), **UNPAID)
        photo = send_photo(uow.session, reg, hours=1)
        assert photo.payment is not None
        payment_id, admin_id = photo.payment.id, make_staff(uow.session).id
    with unit_of_work() as uow:
        admin = uow.session.get(AdminUser, admin_id)
        assert admin is not None
        result = verification.approve(uow.session, payment_id=payment_id, actor=admin, now=later(2))
        payment_jobs.after_verification(uow, result)
        assert _queued(broker, "default") == 0, "nothing is enqueued before the commit"
    assert _queued(broker, "default") == 1
    assert _queued(broker, "notifications") == 1
