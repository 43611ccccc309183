"""Refunds on PostgreSQL: owed on a paid cancellation, a cheaper category and an overpayment;
marked refunded once (audited, the runner told in their language), the amount within what is owed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.errors import Conflict
from core.fulfilment import paid
from core.models import AuditLog, Refund
from core.payments import category_change, verification
from core.registration import changes, manage, refunds
from core.registration.changes import Who
from tests.factories import (
    NOW,
    UNPAID,
    category,
    demo_event,
    make_registration,
    make_staff,
)


def _paid(session: Session, event, code: str = "10K"):  # type: ignore[no-untyped-def]
    reg = make_registration(session, event, code=code, status=RegistrationStatus.PENDING_PAYMENT)
    reg.amount_received = reg.amount_due
    paid.mark_paid(session, registration=reg, actor="t", now=NOW)
    return reg


def test_a_downgrade_then_a_cancellation_owe_what_was_paid_once(session: Session) -> None:
    event = demo_event(session)
    event.changes_until = NOW + timedelta(days=1)
    reg = _paid(session, event)
    five = category(session, event, "5K")
    category_change.change_category(
        session, registration_id=reg.id, category_id=five.id, who=Who("admin@x"), now=NOW
    )
    changes.cancel(session, registration_id=reg.id, who=Who("telegram:1", by_runner=True), now=NOW)
    owed = refunds.listing(session, event_id=event.id)
    assert [(r.reason, r.amount) for r in owed] == [
        ("downgrade", 100_000),
        ("cancellation", (reg.amount_received or 0) - 100_000),
    ]
    assert reg.refund_owed == reg.amount_received  # all of it, never counted twice
    unpaid = make_registration(session, event, **UNPAID)
    manage.cancel(session, registration_id=unpaid.id, actor="a", reason="t", now=NOW)
    assert len(refunds.listing(session, event_id=event.id)) == 2  # nothing paid: nothing owed


def test_marking_refunded_is_audited_tells_the_runner_and_happens_once(session: Session) -> None:
    event = demo_event(session)
    reg = _paid(session, event)
    reg.language = "en"
    manage.cancel(session, registration_id=reg.id, actor="admin@x", reason="sick", now=NOW)
    [refund] = refunds.listing(session, event_id=event.id, status="owed")
    with pytest.raises(Conflict):
        refunds.mark_refunded(
            session, refund_id=refund.id, actor="admin@x", now=NOW, amount=refund.amount + 1
        )
    marked = refunds.mark_refunded(
        session, refund_id=refund.id, actor="admin@x", now=NOW, amount=125_000,
        reference="TRF-889", note="50% under the event's rule",
    )  # fmt: skip
    assert marked.changed and refund.status == "refunded" and refund.refunded_amount == 125_000
    assert reg.refund_owed == 0
    [told] = marked.outbound
    assert told.recipient == reg.chat_id
    assert "We have sent your refund" in told.text and "125,000" in told.text
    assert "TRF-889" in told.text
    again = refunds.mark_refunded(session, refund_id=refund.id, actor="other", now=NOW)
    assert not again.changed and refund.refunded_by == "admin@x"
    actions = session.scalars(
        select(AuditLog.action).where(AuditLog.subject_id == str(reg.id)).order_by(AuditLog.id)
    ).all()
    assert actions.count("refund.owed") == 1 and actions.count("refund.marked") == 1


def test_an_overpayment_is_owed_back(session: Session) -> None:
    event = demo_event(session)
    reg = make_registration(session, event, **UNPAID)
    verification.approve_registration(
        session, registration_id=reg.id, actor=make_staff(session),
        amount_received=reg.amount_due + 10_000, reference="BCA:1", now=NOW,
    )  # fmt: skip
    [refund] = session.scalars(select(Refund)).all()
    assert (refund.reason, refund.amount, refund.status) == ("overpaid", 10_000, "owed")


def test_no_refund_due_closes_it_without_telling_the_runner(session: Session) -> None:
    event = demo_event(session)
    reg = _paid(session, event)
    manage.cancel(session, registration_id=reg.id, actor="admin@x", reason="t", now=NOW)
    [refund] = refunds.listing(session, event_id=event.id)
    closed = refunds.waive(session, refund_id=refund.id, actor="admin@x", now=NOW, note="rule")
    assert closed.changed and not closed.outbound and refund.status == "waived"
    assert reg.refund_owed == 0
    assert not refunds.mark_refunded(session, refund_id=refund.id, actor="a", now=NOW).changed
