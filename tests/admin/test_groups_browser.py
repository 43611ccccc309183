"""The event's group setting (members' own ticket copies) on the event page, in a real browser at
1440 and 390 px: visible, saved, audited. Screenshots under test-artifacts/layout/."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import get_sessionmaker
from core.models import AuditLog, Event
from tests.admin.test_layout_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    LAYOUT_CHECK,
    WIDTHS,
    browser_page,
    ids,
)

pytestmark = pytest.mark.browser
BOX = "input[name=group_tickets_to_members]"


def test_group_ticket_copies_setting_is_saved_and_audited(browser_page, ids) -> None:  # noqa: ANN001, F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        browser_page.set_viewport_size({"width": width, "height": 900})
        browser_page.goto(f"/admin/events/{ids['event']}")
        assert browser_page.inner_text("#group-settings legend") == "Grup"
        assert "salinan e-tiket" in browser_page.inner_text("#group-settings")
        box = browser_page.locator(BOX).bounding_box()
        assert box is not None and box["x"] + box["width"] <= width
        assert not browser_page.evaluate(LAYOUT_CHECK)
        browser_page.locator("#group-settings").screenshot(
            path=str(ARTIFACTS / f"event-groups-{width}.png")
        )
    browser_page.check(BOX)
    browser_page.click("button.btn-pri:has-text('Simpan')")
    browser_page.wait_for_load_state("networkidle")
    assert browser_page.is_checked(BOX)
    with get_sessionmaker()() as session:
        assert session.get(Event, ids["event"]).group_tickets_to_members is True
        changes = session.scalars(
            select(AuditLog.after).where(AuditLog.action == "event.updated")
        ).all()
        assert any((c or {}).get("group_tickets_to_members") is True for c in changes)


def test_statements_page_shows_a_groups_credit_as_the_group(browser_page, ids) -> None:  # noqa: ANN001, F811
    """A leader's one credit before any photo: one exact line naming the group and its runners."""
    from core.db import unit_of_work, utcnow
    from core.models import PaymentAccount
    from core.payments import group_payment
    from core.payments.statements import bank_csv, credits
    from core.registration import groups, intake
    from tests import factories as f

    with unit_of_work() as uow:
        event = uow.session.get(Event, ids["event"])
        group = groups.start(uow.session, event_id=event.id, channel="whatsapp",
                             chat_id=f.random_chat_id(), leader_name="Coach Andi Wijaya")  # fmt: skip
        for name in ("Dewi Ayu Lestari Kusumawardhani", "Budi Hartono", "Rina Wulandari"):
            answers = {"full_name": name, "gender": "F", "jersey_size": "M", "phone": f.random_phone(),
                       "email": f"{f.suffix()}@example.test"}  # fmt: skip
            sub = intake.Submission(event_id=event.id, category_code="5K", answers=answers,
                                    channel="whatsapp", chat_id=group.chat_id)  # fmt: skip
            groups.add_member(uow.session, group, sub, now=utcnow())
        amount = group_payment.assign_group_amount(uow.session, group=group, now=utcnow())
        account = uow.session.scalars(select(PaymentAccount).order_by(PaymentAccount.id)).first()
        line = bank_csv.ParsedLine(1, "GRP-1", amount, "28/11", "TRF COACH ANDI")
        credits.import_lines(uow.session, account_id=account.id, event_id=event.id, lines=[line],
                             actor="t")  # fmt: skip
    for width in WIDTHS:
        browser_page.set_viewport_size({"width": width, "height": 900})
        browser_page.goto(f"/admin/statements?event_id={ids['event']}")
        text = browser_page.inner_text("body")
        assert "Grup 3 pelari (ketua: Coach Andi Wijaya)" in text and "Rina Wulandari" in text
        assert not browser_page.evaluate(LAYOUT_CHECK)
        browser_page.screenshot(
            path=str(ARTIFACTS / f"statements-group-{width}.png"), full_page=True
        )
