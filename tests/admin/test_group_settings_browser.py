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
