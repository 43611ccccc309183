"""A used-up BIB range through the services callers use: payments.approve and move_category.

Both raise RangeExhausted and the caller's transaction rolls back (a savepoint stands in for it
here): the payment stays unapproved, the registration keeps its status, category, BIB and ticket,
no audit row, no outbound message. The HTTP side (409 + text, nothing enqueued) is in
tests/admin/test_fulfilment_admin.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.enums import PaymentStatus, RegistrationStatus
from core.errors import RangeExhausted
from core.fulfilment import paid
from core.models import AuditLog, Category, Event, OutboundMessage, Registration, Sequence
from core.payments import verification
from core.registration import manage
from tests.factories import (
    UNPAID,
    category,
    demo_event,
    later,
    make_registration,
    make_staff,
    send_photo,
)


def _used_up(session: Session, event: Event, code: str) -> Category:
    """Shrink ``code``'s BIB range to one number and hand it out."""
    cat = category(session, event, code)
    cat.bib_end = cat.bib_start
    filler = make_registration(session, event, code=code, **UNPAID)
    paid.mark_paid(session, registration=filler, actor="t", now=later(1))
    assert filler.bib == f"{cat.bib_prefix or ''}{cat.bib_start}"
    return cat


def _count(session: Session, *where: object) -> int:
    return session.scalar(select(func.count()).where(*where)) or 0  # type: ignore[arg-type]


def test_approve_refuses_when_the_range_is_used_up_and_changes_nothing(session: Session) -> None:
    event = demo_event(session)
    cat = _used_up(session, event, "5K")
    reg = make_registration(session, event, code="5K", **UNPAID)
    payment = send_photo(session, reg, hours=2).payment
    assert payment is not None
    status_before, key_before = reg.status, reg.amount_key
    sequence = session.scalars(select(Sequence).where(Sequence.category_id == cat.id)).one()
    next_before = sequence.next_value

    savepoint = session.begin_nested()
    with pytest.raises(RangeExhausted) as caught:
        verification.approve(
            session, payment_id=payment.id, actor=make_staff(session), now=later(3)
        )
    savepoint.rollback()

    message = str(caught.value)
    assert "5K" in message and "extend the range" in message
    assert caught.value.params == {
        "category": "5K",
        "bib_start": cat.bib_start,
        "bib_end": cat.bib_end,
    }
    session.expire_all()
    assert session.get(Registration, reg.id).status == status_before  # type: ignore[union-attr]
    assert (reg.bib, reg.ticket_token, reg.amount_key, reg.paid_at) == (
        None,
        None,
        key_before,
        None,
    )
    assert payment.status == PaymentStatus.SUBMITTED.value and payment.verified_at is None
    assert _count(session, AuditLog.action == "payment.approved") == 0
    assert _count(session, OutboundMessage.registration_id == reg.id) == 0
    assert sequence.next_value == next_before


def test_move_category_refuses_a_full_target_range_and_changes_nothing(session: Session) -> None:
    event = demo_event(session)
    target = _used_up(session, event, "5K")
    reg = make_registration(session, event, code="10K", **UNPAID)
    paid.mark_paid(session, registration=reg, actor="t", now=later(2))
    source = category(session, event, "10K")
    before = (reg.category_id, reg.bib, reg.bib_number, reg.ticket_token, reg.ticket_version)
    slots_before = (source.slots_taken, target.slots_taken)

    savepoint = session.begin_nested()
    with pytest.raises(RangeExhausted, match="extend the range"):
        manage.move_category(
            session, registration_id=reg.id, category_id=target.id, actor="staff:1"
        )
    savepoint.rollback()

    session.expire_all()
    assert reg.status == RegistrationStatus.PAID.value
    assert (reg.category_id, reg.bib, reg.bib_number, reg.ticket_token, reg.ticket_version) == (
        before
    )
    assert (source.slots_taken, target.slots_taken) == slots_before
    for action in ("registration.moved", "ticket.reissued"):
        assert _count(session, AuditLog.action == action) == 0
