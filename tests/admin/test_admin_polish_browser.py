"""What a new organiser hit on the admin, checked in a real browser: the dashboard's cards never
leave one card alone on a row, the jersey filter runs XS..XXL, the search hint fits its box, the
"New event" button is a button (not a second title), the ID/EN switch has finger-sized targets on
a phone, and date fields say their format or read the chosen day back in the staff language."""

from __future__ import annotations

from typing import Any

import pytest

from core.db import unit_of_work
from core.demo import JERSEY
from core.models import Event
from tests.admin.test_layout_browser import ARTIFACTS, browser_page, ids  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
         "Oktober", "November", "Desember")  # fmt: skip

CARD_ROWS = """() => {
  const rows = {};
  for (const card of document.querySelectorAll('.stats > .card')) {
    const top = Math.round(card.getBoundingClientRect().top);
    rows[top] = (rows[top] || 0) + 1;
  }
  return Object.values(rows);
}"""

# Whether the placeholder's text fits in the input's content box (measured with its own font).
PLACEHOLDER_FITS = """(sel) => {
  const input = document.querySelector(sel);
  const style = getComputedStyle(input);
  const ctx = document.createElement('canvas').getContext('2d');
  ctx.font = `${style.fontSize} ${style.fontFamily}`;
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  return ctx.measureText(input.placeholder).width <= room;
}"""


# How many rows the top bar's items sit on (each link, the name, log out, the language switch).
TOPBAR_ROWS = """() => {
  const items = document.querySelectorAll('.topbar .brand, .nav > *, .langswitch');
  const centres = [...items].map(el => { const r = el.getBoundingClientRect(); return (r.top + r.bottom) / 2; });
  return new Set(centres.map(c => Math.round(c / 12))).size;
}"""


def test_dashboard_cards_fill_their_rows(browser_page) -> None:  # noqa: ANN001, F811
    for width in (1440, 1280, 1024, 800, 390):
        browser_page.set_viewport_size({"width": width, "height": 900})
        browser_page.goto("/admin/")
        rows = browser_page.evaluate(CARD_ROWS)
        assert sum(rows) == 6 and len(set(rows)) == 1, (width, rows)
    browser_page.set_viewport_size({"width": 1440, "height": 900})
    assert browser_page.evaluate(CARD_ROWS) == [6]


def test_registrations_filters_read_well(browser_page) -> None:  # noqa: ANN001, F811
    for width in (1440, 390):
        browser_page.set_viewport_size({"width": width, "height": 900})
        browser_page.goto("/admin/registrations")
        options = browser_page.eval_on_selector_all(
            "select[name=jersey] option", "els => els.map(e => e.textContent)"
        )
        assert options[1:] == [size for size, _ in JERSEY]  # stock order, not alphabetical
        assert browser_page.evaluate(PLACEHOLDER_FITS, "input[name=q]"), width


def test_new_event_button_is_button_sized(browser_page) -> None:  # noqa: ANN001, F811
    browser_page.goto("/admin/events")
    sizes = browser_page.evaluate(
        """() => [parseFloat(getComputedStyle(document.querySelector('h1')).fontSize),
                  parseFloat(getComputedStyle(document.querySelector('h1 .btn')).fontSize),
                  document.querySelector('h1 .btn').getBoundingClientRect().height]"""
    )
    title, button, height = sizes
    assert button <= 0.75 * title and height <= 40, sizes


def test_language_switch_has_room_on_a_phone(browser_page) -> None:  # noqa: ANN001, F811
    browser_page.set_viewport_size({"width": 390, "height": 800})
    browser_page.goto("/admin/")
    boxes = browser_page.eval_on_selector_all(
        ".langswitch button",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right, r.width, r.height]; })",
    )
    assert len(boxes) == 2
    (_, id_right, *_), (en_left, *_) = boxes
    assert all(w >= 32 and h >= 26 for *_, w, h in boxes), boxes
    assert en_left - id_right >= 4, boxes


def _race_date_hint(page: Any, event_id: int) -> str:
    page.goto(f"/admin/events/{event_id}")
    return page.inner_text("#race_date + .date-hint")


def test_date_fields_say_the_format_and_read_the_day_back(browser_page, ids) -> None:  # noqa: ANN001, F811
    with unit_of_work() as uow:
        day = uow.session.get(Event, ids["event"]).race_date
    hint = _race_date_hint(browser_page, ids["event"])
    assert f"{day.day} {BULAN[day.month - 1]} {day.year}" in hint and "," in hint, hint
    browser_page.fill("#race_date", "")
    browser_page.dispatch_event("#race_date", "input")
    assert browser_page.inner_text("#race_date + .date-hint") == "Format: hh-bb-tttt"
    browser_page.click(".langswitch button[value=en]")
    assert f"{day.strftime('%B')} {day.day}, {day.year}" in _race_date_hint(
        browser_page, ids["event"]
    )
    browser_page.goto("/admin/events/0")
    assert browser_page.inner_text("#race_date + .date-hint") == "Format: dd-mm-yyyy"


def test_top_bar_stays_one_row_at_desktop_width(browser_page) -> None:  # noqa: ANN001, F811
    browser_page.set_viewport_size({"width": 1440, "height": 900})
    for language in ("id", "en"):
        browser_page.goto("/admin/")
        browser_page.click(f".langswitch button[value={language}]")
        height = browser_page.evaluate("document.querySelector('.topbar').offsetHeight")
        rows = browser_page.evaluate(TOPBAR_ROWS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        browser_page.locator(".topbar").screenshot(path=str(ARTIFACTS / f"topbar-{language}.png"))
        assert height <= 50 and rows == 1, (language, height, rows)
