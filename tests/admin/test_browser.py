"""Browser tests: Debian chromium (headless) drives the admin served on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.models import Event, Payment
from tests import factories as f
from tests.fakes.server import serve

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def base_url(seeded, broker) -> Iterator[str]:  # noqa: ANN001
    from app.main import create_app

    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        for name in ("Siti Rahayu", "Budi <b>Santoso</b>"):
            f.make_payment(uow.session, f.make_registration(uow.session, event, full_name=name))
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def page(base_url: str):  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=base_url, accept_downloads=True, viewport={"width": 1280, "height": 900}
        )
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        yield tab
        context.close()
        browser.close()


def statuses() -> list[str]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(Payment.status).order_by(Payment.id)))


def test_verify_queue_and_export_in_browser(page, seeded, tmp_path: Path) -> None:  # noqa: ANN001
    page.goto("/admin/queue")
    assert "/admin/login" in page.url
    page.fill("#email", seeded.emails["admin"])
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/queue")
    page.wait_for_selector("#photo")
    assert page.text_content("#runner-name") == "Siti Rahayu"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)

    page.keyboard.press("a")  # approve with the shortcut; the next item loads without a reload
    page.wait_for_selector("#queue-status.flash-ok")
    assert "Disetujui" in page.text_content("#queue-status")
    page.wait_for_function("document.querySelector('#runner-name').textContent.includes('Budi')")
    assert page.text_content("#runner-name") == "Budi <b>Santoso</b>"  # escaped, shown as text

    page.click("#reject-toggle")
    # A5: each reason's radio keeps its natural size (not stretched into a wide oval).
    box = page.locator("input[name=reason][value=unreadable]").bounding_box()
    assert box is not None and box["width"] < 30 and box["height"] < 30, box
    page.screenshot(path=str(ARTIFACTS / "queue-reject-open.png"), full_page=True)
    page.check("input[name=reason][value=unreadable]")
    page.click("#reject-btn")
    page.wait_for_selector("#queue-empty")
    assert "Ditolak" in page.text_content("#queue-status")
    assert statuses() == ["approved", "rejected"]

    page.goto("/admin/registrations")
    with page.expect_download() as info:
        page.click("a[href^='/admin/exports/participants.csv']")
    target = tmp_path / "participants.csv"
    info.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    assert "Siti Rahayu" in text and "Budi <b>Santoso</b>" in text
