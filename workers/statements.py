"""Bulk approval of bank-statement matches (queue `high`: payment verification and BIB numbers).

"Approve all exact matches" can cover hundreds of credits after a rush; each line is approved in its
own transaction by workers.verification.approve_statement_line (status, BIB, audit, notice, ticket),
so one refusal (a BIB range used up, a registration approved meanwhile) does not stop the rest. The
outcome is written to the audit log as ``statement.bulk_approve``, which the statements page shows.
"""

from __future__ import annotations

import logging

import dramatiq

from core import audit
from core.db import get_sessionmaker, unit_of_work
from core.errors import ServiceError
from core.i18n import staff_message
from core.models import AdminUser
from core.payments.statements import credits
from workers.broker import broker
from workers.verification import approve_statement_line

log = logging.getLogger(__name__)

BULK_ACTION = "statement.bulk_approve"


def approve_all_exact(event_id: int, *, staff_id: int) -> int:
    """Queue the approval of every exact match the event has now; return how many lines.

    The lines are fixed here (the ones the admin saw), and approved in the background.
    """
    with get_sessionmaker()() as session:
        line_ids = [m.line.id for m in credits.match(session, event_id=event_id).exact]
    if line_ids:
        approve_exact_matches.send(event_id, staff_id, line_ids)
    return len(line_ids)


@dramatiq.actor(queue_name="high", broker=broker, max_retries=0)
def approve_exact_matches(event_id: int, staff_id: int, line_ids: list[int]) -> None:
    """Approve ``line_ids`` (the exact matches the admin saw) one by one, then record the outcome."""
    approved, errors = 0, []
    for line_id in line_ids:
        try:
            approve_statement_line(staff_id, line_id)
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
