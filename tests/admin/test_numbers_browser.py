"""Numbers per event in a real browser at 1440 and 390 px: the admin unticks a number, the start
links follow, the poster's QR is the short link, and a wrong short link is a friendly page."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.config import get_settings
from tests.admin.test_layout_browser import (  # noqa: F401
    ARTIFACTS,
    LAYOUT_CHECK,
    WIDTHS,
    browser_page,
    ids,
)
from tests.qr import decode_qr

pytestmark = pytest.mark.browser
NUMBERS = ("628111000111", "628222000222", "628333000333")


def test_numbers_per_event_and_the_short_link(
    browser_page: Any,  # noqa: F811
    ids: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FONNTE_DEVICES", json.dumps({n: f"token-{n[-3:]}" for n in NUMBERS}))
    get_settings.cache_clear()
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"/admin/events/{ids['event']}")
    boxes = page.locator('#event-numbers input[name="number"]')
    assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))
    boxes.nth(1).uncheck()
    page.click("#event-numbers button")
    page.wait_for_load_state("networkidle")
    assert "Nomor untuk acara ini disimpan." in page.inner_text(".flash")
    assert [boxes.nth(i).is_checked() for i in range(3)] == [True, False, True]
    links = page.inner_text("#start-links")
    assert "/go/jakarta-fun-run/10K" in links and NUMBERS[1] not in links
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"/admin/events/{ids['event']}")
        page.locator("#start-links details").first.evaluate("d => d.open = true")
        for card in ("whatsapp", "start-links"):
            page.locator(f"#{card}").screenshot(path=str(ARTIFACTS / f"numbers-{card}-{width}.png"))
        problems += [f"event @ {width}px: {p}" for p in page.evaluate(LAYOUT_CHECK)]
        page.goto(f"/admin/events/{ids['event']}/poster?channel=whatsapp&category=10K")
        shot = page.screenshot(path=str(ARTIFACTS / f"numbers-poster-{width}.png"), full_page=True)
        assert decode_qr(shot) == "http://127.0.0.1:8000/go/jakarta-fun-run/10K", width
        page.goto("/admin/operations")  # each number's queue, start-link runners and pause
        page.locator("#wa-devices").screenshot(
            path=str(ARTIFACTS / f"numbers-operations-{width}.png")
        )
        assert NUMBERS[1] in page.inner_text("#wa-devices")
        page.goto("/go/no-such-run")
        page.screenshot(path=str(ARTIFACTS / f"go-not-found-{width}.png"), full_page=True)
        assert "Tautan pendaftaran tidak ditemukan" in page.inner_text("main")
        problems += [f"/go 404 @ {width}px: {p}" for p in page.evaluate(LAYOUT_CHECK)]
    assert not problems, "\n".join(problems)
