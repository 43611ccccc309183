"""Bulk approval of bank-statement matches (queue `high`: payment verification and BIB numbers).

"Approve all exact matches" can cover hundreds of credits after a rush; each line is approved in its
own transaction by the payments service (status, BIB, audit), so one refusal (a BIB range used up, a
registration approved meanwhile) does not stop the rest. The outcome is written to the audit log as
``statement.bulk_approve``, which the statements page shows.
"""

from __future__ import annotations

import logging

import dramatiq

from core import audit
from core.db import unit_of_work, utcnow
from core.errors import ServiceError
from core.i18n import staff_message
from core.messaging.texts import refresh_overrides
from core.models import AdminUser
from core.payments.statements import approval
from workers.broker import broker
from workers.payments import after_verification

log = logging.getLogger(__name__)

BULK_ACTION = "statement.bulk_approve"


@dramatiq.actor(queue_name="high", broker=broker, max_retries=0)
def approve_exact_matches(event_id: int, staff_id: int, line_ids: list[int]) -> None:
    """Approve ``line_ids`` (the exact matches the admin saw) one by one, then record the outcome."""
    approved, errors = 0, []
    for line_id in line_ids:
        try:
            approve_one(staff_id, line_id)
            approved += 1
        except ServiceError as exc:
            errors.append(staff_message(exc))
    with unit_of_work() as uow:
        staff = uow.session.get(AdminUser, staff_id)
        audit.record(
            uow.session,
            actor=staff.email if staff else "system",
            action=BULK_ACTION,
            subject_type="event",
            subject_id=event_id,
            approved=approved,
            failed=len(errors),
            first_error=errors[0] if errors else None,
        )
    log.info("bulk statement approval: %s approved, %s failed", approved, len(errors))


def approve_one(staff_id: int, line_id: int, registration_id: int | None = None) -> str:
    """Approve one statement line as ``staff_id``; the runner's notice and e-ticket follow commit."""
    with unit_of_work() as uow:
        refresh_overrides(uow.session, now=utcnow())
        staff = uow.session.get(AdminUser, staff_id)
        if staff is None:
            raise ServiceError("The staff account no longer exists.")
        result = approval.approve_line(
            uow.session, line_id=line_id, actor=staff, now=utcnow(), registration_id=registration_id
        )
        for approved in (result, *result.others):  # a photo group is approved together
            after_verification(uow, approved)
    return result.status
