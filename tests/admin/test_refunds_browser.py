"""The Refunds page and an event answer edited on the registration page, in a real browser at
1440 and 390 px: laid out without overflow, marked refunded through the confirm dialog, an answer
saved through its own select. Screenshots under test-artifacts/layout/."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.fulfilment import paid
from core.models import Event
from core.registration import manage, refunds
from tests import factories as f
from tests.admin.test_layout_browser import (  # noqa: F401
    ARTIFACTS,
    LAYOUT_CHECK,
    LONG_NAME,
    WIDTHS,
    browser_page,
    ids,
)

pytestmark = pytest.mark.browser


def _refunds(event_id: int) -> None:
    """Two paid runners cancelled: one refund still owed, one already sent."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        for n in range(2):
            reg = f.make_registration(uow.session, event, code="10K", full_name=LONG_NAME,
                                      status=RegistrationStatus.PENDING_PAYMENT)  # fmt: skip
            reg.amount_received = reg.amount_due
            paid.mark_paid(uow.session, registration=reg, actor="t", now=utcnow())
            manage.cancel(uow.session, registration_id=reg.id, actor="a", reason="t", now=utcnow())
            if n:
                [refund] = refunds.listing(uow.session, event_id=event_id, status="owed")[-1:]
                refunds.mark_refunded(uow.session, refund_id=refund.id, actor="admin@funrun.local",
                                      now=utcnow(), reference="BCA-0099887766",
                                      note="Dikembalikan 80% sesuai ketentuan")  # fmt: skip


def _look(page: Any, name: str, part: str = "") -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for opened in page.query_selector_all("details"):
            opened.evaluate("d => d.open = true")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        if part:  # the part this test is about, at a size one can look at
            page.locator(part).screenshot(path=str(ARTIFACTS / f"{name}-part-{width}.png"))
        problems += [f"{name} @ {width}px: {p}" for p in page.evaluate(LAYOUT_CHECK)]
    return problems


def test_refunds_page_and_answer_edit_in_the_browser(
    browser_page: Any,  # noqa: F811
    ids: dict[str, Any],  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser_page
    page.on("dialog", lambda dialog: dialog.accept())
    _refunds(ids["event"])
    page.goto(f"/admin/events/{ids['event']}/refunds")
    problems = _look(page, "refunds")
    page.set_viewport_size({"width": 390, "height": 900})
    form = page.locator("form[action$='/refunded']").first
    form.locator("input[name=reference]").fill("TRF-42")
    form.locator("button.btn-pri").click()
    page.wait_for_load_state("networkidle")
    assert "TRF-42" in page.inner_text("table.refunds")
    page.goto(f"/admin/registrations/{ids['registration']}")
    problems += _look(page, "registration-answers", "#edit-answers")
    page.set_viewport_size({"width": 1440, "height": 900})
    edit = page.locator("#edit-answers form").first
    edit.locator("select").select_option("Kecil")
    edit.locator("button").click()
    page.wait_for_load_state("networkidle")
    assert "Kecil" in page.inner_text("#custom-answers")
    assert not problems, "\n".join(problems)
