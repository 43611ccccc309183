"""mark_paid: status, BIB from the category range, ticket token, audit; range exhaustion."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import RangeExhausted
from core.fulfilment import paid, tickets
from core.models import AuditLog, Sequence
from tests.factories import category, demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def test_mark_paid_assigns_first_bib_token_and_audit(session: Session) -> None:
    event = demo_event(session)
    reg = make_registration(session, event, code="10K")

    paid.mark_paid(session, registration=reg, actor="staff:1", now=NOW)

    assert reg.status == RegistrationStatus.PAID.value
    assert reg.paid_at == NOW
    assert reg.amount_key is None
    assert (reg.bib, reg.bib_number) == ("10001", 10001)
    assert tickets.normalise_token(reg.ticket_token or "") == reg.ticket_token
    assert reg.ticket_token not in (reg.bib, reg.number)
    assert reg.ticket_version == 1
    row = session.scalars(
        select(AuditLog).where(
            AuditLog.action == "registration.paid", AuditLog.subject_id == str(reg.id)
        )
    ).one()
    assert row.after["bib"] == "10001"


def test_bibs_follow_approval_order_with_prefix(session: Session) -> None:
    event = demo_event(session)
    cat = category(session, event, "21K")
    cat.bib_prefix = "HM"
    regs = [make_registration(session, event, code="21K") for _ in range(3)]
    for reg in reversed(regs):
        paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    assert [r.bib for r in reversed(regs)] == ["HM21001", "HM21002", "HM21003"]


def test_mark_paid_is_idempotent(session: Session) -> None:
    event = demo_event(session)
    reg = make_registration(session, event, code="10K")
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    token, bib = reg.ticket_token, reg.bib
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    assert (reg.ticket_token, reg.bib) == (token, bib)
    seq = session.scalars(select(Sequence).where(Sequence.category_id == reg.category_id)).one()
    assert seq.next_value == 10002


def test_range_exhausted_is_refused_cleanly(session: Session) -> None:
    event = demo_event(session)
    cat = category(session, event, "5K")
    cat.bib_start, cat.bib_end = 5001, 5002
    first, second, third = (make_registration(session, event, code="5K") for _ in range(3))
    paid.mark_paid(session, registration=first, actor="t", now=NOW)
    paid.mark_paid(session, registration=second, actor="t", now=NOW)
    key_before = third.amount_key

    savepoint = session.begin_nested()
    with pytest.raises(RangeExhausted, match="extend the range") as caught:
        paid.mark_paid(session, registration=third, actor="t", now=NOW)
    savepoint.rollback()

    assert caught.value.key == "error.bib_range_exhausted"
    session.refresh(third)
    assert third.status == RegistrationStatus.AWAITING_VERIFICATION.value
    assert (third.bib, third.ticket_token, third.amount_key) == (None, None, key_before)

    cat.bib_end = 5003  # the organiser extends the range: the next approval continues in order
    paid.mark_paid(session, registration=third, actor="t", now=NOW)
    assert third.bib == "5003"


def test_numbers_already_taken_are_passed_over(session: Session) -> None:
    event = demo_event(session)
    manual = make_registration(session, event, code="10K")
    manual.bib, manual.bib_number = "10001", 10001
    reg = make_registration(session, event, code="10K")
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    assert reg.bib == "10002"
