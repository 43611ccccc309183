"""Browser tests of the whole app: the simulator chat page and the admin dashboard on a phone.

Debian chromium (headless) against create_app() served on loopback, with the real Redis worker.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.db import unit_of_work
from core.demo import DEMO_ADMIN
from core.enums import RegistrationStatus
from core.models import Event
from tests import factories as f
from tests.e2e.conftest import DEMO_ADMIN_PASSWORD

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = "081266667777"


@pytest.fixture
def browser(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser: Any, base_url: str, **context: Any) -> Any:
    page = browser.new_context(base_url=base_url, **context).new_page()
    page.set_default_timeout(20_000)
    return page


def chat(page: Any, text: str, expect: str) -> None:
    """Type a message like a user (Enter submits), then wait for the bot's bubble with ``expect``."""
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.locator(".msg.out", has_text=expect).last.wait_for()


def test_simulator_chat_in_the_browser(browser: Any, live_server: str) -> None:
    page = new_page(browser, live_server, viewport={"width": 420, "height": 860})
    page.goto(f"/simulator?phone={PHONE}")
    chat(page, "DAFTAR", "Jakarta Fun Run")
    page.locator(".msg.out", has_text="kategori").wait_for()
    chat(page, "5K", "nama lengkap")

    chat(page, "<b>x</b>", "Nama hanya boleh")  # refused as a name, and shown as typed
    typed = page.locator(".msg.in", has_text="<b>x</b>")
    assert typed.count() == 1 and typed.inner_text().strip() == "<b>x</b>"
    assert page.locator(".msg.in b").count() == 0  # never turned into markup

    chat(page, "Siti Aminah", "Jenis kelamin")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "simulator.png"))


def seed_dashboard(event_id: int) -> None:
    """Registrations in every category and several statuses, so every table and chart has rows."""
    names = ["Siti Aminah", "Muhammad Rizky Pratama Wijayakusumaningrat", "Budi <b>Santoso</b>"]
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        for n, (code, status) in enumerate(
            [("5K", RegistrationStatus.PAID), ("10K", RegistrationStatus.PENDING_PAYMENT),
             ("21K", RegistrationStatus.AWAITING_VERIFICATION)]
        ):  # fmt: skip
            reg = f.make_registration(
                uow.session, event, code=code, status=status, full_name=names[n]
            )
            if status == RegistrationStatus.AWAITING_VERIFICATION:
                f.make_payment(uow.session, reg)


def test_admin_dashboard_fits_a_phone(browser: Any, live_server: str, demo_event: int) -> None:
    seed_dashboard(demo_event)
    page = new_page(
        browser, live_server, viewport={"width": 390, "height": 844}, device_scale_factor=2
    )
    page.goto("/admin/")
    assert "/admin/login" in page.url
    page.fill("#email", DEMO_ADMIN)
    page.fill("#password", DEMO_ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    page.wait_for_load_state("networkidle")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-phone.png"), full_page=True)
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner + 1, f"horizontal overflow on a phone: {width}px > {inner}px"
