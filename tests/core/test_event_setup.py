"""Event setup in core (no HTTP): categories, events, payment and check-in settings, templates, staff roles."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import EventStatus, Role
from core.errors import Conflict, InvalidSetting, NotFound
from core.events import setup
from core.fulfilment import desks
from core.messaging import texts
from core.models import AuditLog
from core.staff import accounts
from tests import factories as f


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


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
    with pytest.raises(InvalidSetting, match="overlaps"):
        setup.save_category(
            session, event_id=event.id, category_id=None,
            data=category_data(code="4K", bib_start=500, bib_end=1500), actor="t",
        )  # fmt: skip
    five = f.category(session, event)
    five.slots_taken = 10
    with pytest.raises(InvalidSetting, match="quota"):
        setup.save_category(
            session, event_id=event.id, category_id=five.id, data={"quota": 5}, actor="t"
        )
    with pytest.raises(InvalidSetting, match="BIB range"):
        setup.save_category(
            session, event_id=event.id, category_id=five.id, data={"bib_end": 1}, actor="t"
        )
    assert "category.created" in actions(session)


def test_save_category_refuses_a_category_of_another_event(session: Session) -> None:
    event = f.demo_event(session, admin_password=f.PASSWORD)
    other = setup.save_event(
        session, event_id=None,
        data={"slug": "other-run", "name": "Other Run", "race_date": date(2030, 5, 1)}, actor="t",
    )  # fmt: skip
    theirs = f.category(session, event)
    with pytest.raises(NotFound):
        setup.save_category(
            session, event_id=other.id, category_id=theirs.id, data={"name": "Hijacked"}, actor="t"
        )
    assert theirs.name != "Hijacked"


def test_event_create_open_close_and_settings(session: Session) -> None:
    f.demo_event(session, admin_password=f.PASSWORD)
    event = setup.save_event(
        session, event_id=None,
        data={"slug": "bdg-run", "name": "Bandung Run", "race_date": date(2030, 5, 1)}, actor="t",
    )  # fmt: skip
    with pytest.raises(InvalidSetting):
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
    desks.set_checkin_pin(session, event_id=event.id, pin="246810", actor="t")
    assert event.checkin_pin_hash and "246810" not in event.checkin_pin_hash
    assert accounts.verify_password(event.checkin_pin_hash, "246810")
    with pytest.raises(InvalidSetting):
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
    texts.set_template(
        session, key="payment.received", language="id", body="Terima kasih!", actor="t"
    )
    texts.set_template(session, key="payment.received", language="id", body="", actor="t")
    admin = accounts.find_by_email(session, "admin@funrun.local")
    assert admin is not None
    with pytest.raises(Conflict):
        accounts.update_staff(session, user_id=admin.id, role=Role.VERIFIER, active=True, actor="t")
    other = f.make_staff(session, Role.VERIFIER)
    accounts.update_staff(session, user_id=other.id, role=Role.CHECKIN, active=False, actor="t")
    assert other.role == "checkin" and not other.active
    assert event.id
