"""Reports in core (no HTTP): dashboard numbers, the funnel and the export generators."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import reports
from core.db import utcnow
from core.enums import RegistrationStatus
from core.registration import search
from tests import factories as f


def test_dashboard_and_funnel_numbers(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    paid = f.make_registration(session, event, status=RegistrationStatus.PAID, jersey_size="S")
    paid.paid_at = utcnow()
    waiting = f.make_registration(session, event, code="10K")
    f.make_payment(session, waiting)
    f.make_registration(session, event, status=RegistrationStatus.CANCELLED)
    session.flush()
    board = reports.dashboard(session, event_id=event.id)
    assert board.by_status == {"paid": 1, "awaiting_verification": 1, "cancelled": 1}
    assert board.revenue_verified == paid.amount_due
    assert board.outstanding == waiting.amount_due
    five = next(c for c in board.categories if c.code == "5K")
    assert five.taken == 1 and five.paid == 1 and five.jersey == {"S": 1}
    assert sum(n for _, n in board.per_day) == 3
    rows = reports.funnel(session, event_id=event.id)
    assert sum(r.confirmed for r in rows) == 3 and sum(r.photos for r in rows) == 1
    assert sum(r.paid for r in rows) == 1


def test_export_generators(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    reg = f.make_registration(session, event)
    f.make_payment(session, reg)
    records = list(reports.participant_records(session, filters=search.Filters(event_id=event.id)))
    assert [r.id for r in records] == [reg.id]
    rows = list(reports.financial_rows(session, event_id=event.id))
    assert rows[0]["registration"] == reg.number and rows[0]["unique_code"] == reg.unique_code
