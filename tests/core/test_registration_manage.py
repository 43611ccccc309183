"""Editing registrations in core (no HTTP): search, cancel, edit (jersey stock) and category moves."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.enums import RegistrationStatus
from core.errors import Conflict, SoldOut
from core.models import AuditLog, JerseyStock
from core.registration import manage as regs
from core.registration import search
from tests import factories as f


def stock(session: Session, event_id: int, size: str) -> JerseyStock:
    return session.scalars(
        select(JerseyStock).where(JerseyStock.event_id == event_id, JerseyStock.size == size)
    ).one()


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_search_by_name_phone_number_and_bib(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    a = f.make_registration(session, event, full_name="Siti Rahayu")
    b = f.make_registration(session, event, full_name="Budi Santoso", code="10K")
    b.bib = "10001"
    session.flush()
    by = lambda q: [r.id for r in search.search(session, filters=search.Filters(q=q)).rows]  # noqa: E731
    assert by("rahayu") == [a.id]
    assert by(a.number.lower()) == [a.id]
    assert by("0" + a.participant.phone[2:]) == [a.id]
    assert by("10001") == [b.id]
    assert by(b.participant.email) == [b.id]
    page = search.search(session, filters=search.Filters(category_id=b.category_id))
    assert [r.id for r in page.rows] == [b.id] and page.pages == 1


def test_search_paginates_and_filters_status_and_jersey(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    for _ in range(5):
        f.make_registration(session, event, jersey_size="L")
    f.make_registration(session, event, status=RegistrationStatus.PAID, jersey_size="S")
    page = search.search(session, filters=search.Filters(jersey="L"), page=2, per_page=2)
    assert page.total == 5 and page.pages == 3 and len(page.rows) == 2
    paid = search.search(session, filters=search.Filters(status="paid"))
    assert paid.total == 1


def test_cancel_releases_slot_and_jersey_once(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    reg = f.make_registration(session, event, jersey_size="XL")
    cat = f.category(session, event)
    assert cat.slots_taken == 1 and stock(session, event.id, "XL").taken == 1
    for _ in range(2):
        regs.cancel(session, registration_id=reg.id, actor="t", reason="asked", now=utcnow())
    assert reg.status == "cancelled" and reg.amount_key is None
    assert cat.slots_taken == 0 and stock(session, event.id, "XL").taken == 0
    assert actions(session).count("registration.cancelled") == 1


def test_cancel_revokes_ticket(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    reg = f.make_registration(session, event, status=RegistrationStatus.PAID)
    reg.ticket_token = "X" * 32
    session.flush()
    regs.cancel(session, registration_id=reg.id, actor="t", reason="", now=utcnow())
    assert reg.ticket_token is None


def test_edit_participant_moves_jersey_stock_and_audits(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    reg = f.make_registration(session, event, jersey_size="M")
    diff = regs.edit_participant(
        session,
        registration_id=reg.id,
        changes={"full_name": "New Name", "jersey_size": "L", "date_of_birth": "1990-02-03"},
        actor="t",
    )
    assert set(diff) == {"full_name", "jersey_size", "date_of_birth"}
    assert reg.participant.date_of_birth == date(1990, 2, 3)
    assert stock(session, event.id, "M").taken == 0 and stock(session, event.id, "L").taken == 1
    row = session.scalars(select(AuditLog).where(AuditLog.action == "registration.edited")).one()
    assert row.before["jersey_size"] == "M" and row.after["full_name"] == "New Name"


def test_edit_refuses_sold_out_jersey(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    reg = f.make_registration(session, event, jersey_size="M")
    xs = stock(session, event.id, "XS")
    xs.taken = xs.stock
    with pytest.raises(SoldOut):
        regs.edit_participant(
            session, registration_id=reg.id, changes={"jersey_size": "XS"}, actor="t"
        )


def test_move_category_respects_quota_and_reassigns_bib(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    reg = f.make_registration(session, event, status=RegistrationStatus.PAID)
    reg.bib, reg.bib_number = "5001", 5001
    session.flush()
    ten = f.category(session, event, "10K")
    regs.move_category(session, registration_id=reg.id, category_id=ten.id, actor="t")
    assert reg.category_id == ten.id and reg.bib == "10001"
    assert ten.slots_taken == 1 and f.category(session, event, "5K").slots_taken == 0
    half = f.category(session, event, "21K")
    half.slots_taken = half.quota
    with pytest.raises(SoldOut):
        regs.move_category(session, registration_id=reg.id, category_id=half.id, actor="t")


def test_move_category_checks_age(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    reg = f.make_registration(session, event)
    reg.participant.date_of_birth = date(event.race_date.year - 12, 1, 1)
    session.flush()
    with pytest.raises(Conflict):
        regs.move_category(
            session,
            registration_id=reg.id,
            category_id=f.category(session, event, "21K").id,
            actor="t",
        )
