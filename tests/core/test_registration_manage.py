"""Admin-side core services: registrations search/edit/cancel/move, events and settings, reports."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import reports
from core.db import utcnow
from core.enums import EventStatus, RegistrationStatus, Role
from core.errors import Conflict, SoldOut
from core.events import setup
from core.models import AuditLog, JerseyStock
from core.registration import manage as regs
from core.staff import accounts
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
    by = lambda q: [r.id for r in regs.search(session, filters=regs.Filters(q=q)).rows]  # noqa: E731
    assert by("rahayu") == [a.id]
    assert by(a.number.lower()) == [a.id]
    assert by("0" + a.participant.phone[2:]) == [a.id]
    assert by("10001") == [b.id]
    assert by(b.participant.email) == [b.id]
    page = regs.search(session, filters=regs.Filters(category_id=b.category_id))
    assert [r.id for r in page.rows] == [b.id] and page.pages == 1


def test_search_paginates_and_filters_status_and_jersey(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    for _ in range(5):
        f.make_registration(session, event, jersey_size="L")
    f.make_registration(session, event, status=RegistrationStatus.PAID, jersey_size="S")
    page = regs.search(session, filters=regs.Filters(jersey="L"), page=2, per_page=2)
    assert page.total == 5 and page.pages == 3 and len(page.rows) == 2
    paid = regs.search(session, filters=regs.Filters(status="paid"))
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


def category_data(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "code": "3K", "name": "Kids 3K", "distance_km": 3, "price": 50_000, "quota": 100, "min_age": None,
        "max_age": None, "bib_start": 1, "bib_end": 999, "bib_prefix": "K", "reg_prefix": "JFR-3K", "sort_order": 5,
    }  # fmt: skip
    data.update(overrides)
    return data


def test_save_category_validates_ranges_and_quota(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    cat = setup.save_category(
        session, event_id=event.id, category_id=None, data=category_data(), actor="t"
    )
    assert cat.id and cat.slots_taken == 0
    with pytest.raises(setup.InvalidSetting, match="overlaps"):
        setup.save_category(
            session, event_id=event.id, category_id=None,
            data=category_data(code="4K", bib_start=500, bib_end=1500), actor="t",
        )  # fmt: skip
    five = f.category(session, event)
    five.slots_taken = 10
    with pytest.raises(setup.InvalidSetting, match="quota"):
        setup.save_category(
            session, event_id=event.id, category_id=five.id, data={"quota": 5}, actor="t"
        )
    with pytest.raises(setup.InvalidSetting, match="BIB range"):
        setup.save_category(
            session, event_id=event.id, category_id=five.id, data={"bib_end": 1}, actor="t"
        )
    assert "category.created" in actions(session)


def test_event_create_open_close_and_settings(session: Session) -> None:
    f.demo_event(session, admin_password=f.PASSWORD)
    event = setup.save_event(
        session, event_id=None,
        data={"slug": "bdg-run", "name": "Bandung Run", "race_date": date(2030, 5, 1)}, actor="t",
    )  # fmt: skip
    with pytest.raises(setup.InvalidSetting):
        setup.set_status(session, event_id=event.id, status=EventStatus.OPEN, actor="t")
    setup.save_category(
        session, event_id=event.id, category_id=None, data=category_data(), actor="t"
    )
    session.refresh(event)
    setup.set_status(session, event_id=event.id, status=EventStatus.OPEN, actor="t")
    assert event.status == "open"
    setup.update_payment_settings(
        session,
        event_id=event.id,
        data={"unique_code_mode": "subtract", "payment_deadline_hours": 12},
        actor="t",
    )
    assert event.unique_code_mode == "subtract" and event.payment_deadline_hours == 12
    setup.set_checkin_pin(session, event_id=event.id, pin="246810", actor="t")
    assert event.checkin_pin_hash and "246810" not in event.checkin_pin_hash
    assert accounts.verify_password(event.checkin_pin_hash, "246810")
    with pytest.raises(setup.InvalidSetting):
        setup.save_event(
            session,
            event_id=None,
            data={"slug": "bdg-run", "name": "x", "race_date": date(2030, 1, 1)},
            actor="t",
        )
    assert {"event.created", "event.open", "settings.payment", "settings.checkin_pin"} <= set(
        actions(session)
    )


def test_templates_and_last_admin(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    setup.set_template(
        session, key="payment.received", language="id", body="Terima kasih!", actor="t"
    )
    setup.set_template(session, key="payment.received", language="id", body="", actor="t")
    admin = accounts.find_by_email(session, "admin@funrun.local")
    assert admin is not None
    with pytest.raises(Conflict):
        setup.update_staff(session, user_id=admin.id, role=Role.VERIFIER, active=True, actor="t")
    other = f.make_staff(session, Role.VERIFIER)
    setup.update_staff(session, user_id=other.id, role=Role.CHECKIN, active=False, actor="t")
    assert other.role == "checkin" and not other.active
    assert event.id


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
    records = list(reports.participant_records(session, filters=regs.Filters(event_id=event.id)))
    assert [r.id for r in records] == [reg.id]
    rows = list(reports.financial_rows(session, event_id=event.id))
    assert rows[0]["registration"] == reg.number and rows[0]["unique_code"] == reg.unique_code
