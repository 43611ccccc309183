"""Browser test of the queue's keyboard: R opens the reject form, J/K move next/previous."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.models import Event, Payment
from tests import factories as f
from tests.admin.test_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.fakes.server import serve

pytestmark = pytest.mark.browser
NAMES = ("Siti Rahayu", "Budi Santoso", "Citra Lestari")


@pytest.fixture
def queue_url(seeded, broker) -> Iterator[str]:  # noqa: ANN001
    from app.main import create_app

    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        for name in NAMES:
            f.make_payment(uow.session, f.make_registration(uow.session, event, full_name=name))
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def tab(queue_url: str):  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(base_url=queue_url, viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()


def wait_for_runner(page, name: str) -> None:  # noqa: ANN001
    page.wait_for_function(
        "name => document.querySelector('#runner-name').textContent === name", arg=name
    )


def test_r_j_k_shortcuts(tab, seeded) -> None:  # noqa: ANN001
    tab.goto("/admin/queue")
    tab.fill("#email", seeded.emails["verifier"])
    tab.fill("#password", f.PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/admin/queue")
    wait_for_runner(tab, NAMES[0])

    tab.keyboard.press("j")
    wait_for_runner(tab, NAMES[1])
    tab.keyboard.press("j")
    wait_for_runner(tab, NAMES[2])
    tab.keyboard.press("k")
    wait_for_runner(tab, NAMES[1])
    tab.keyboard.press("K")  # shortcuts ignore case
    wait_for_runner(tab, NAMES[0])

    assert tab.is_hidden("#reject-form")
    tab.keyboard.press("r")
    tab.wait_for_selector("#reject-form", state="visible")
    tab.check("input[name=reason][value=other]")
    tab.click("#reject-btn")  # "Other" without text is refused, nothing changes
    tab.wait_for_selector("#queue-status.flash-error")
    assert 'Ketik alasan untuk "Lainnya"' in (tab.text_content("#queue-status") or "")
    assert tab.text_content("#runner-name") == NAMES[0]
    tab.fill("#note", "Nama pengirim berbeda")
    tab.click("#reject-btn")
    tab.wait_for_selector("#queue-status.flash-ok")
    wait_for_runner(tab, NAMES[1])
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / "queue-shortcuts.png"), full_page=True)

    tab.keyboard.press("r")  # focus is back on the page: R toggles the form again
    tab.wait_for_selector("#reject-form", state="visible")
    tab.keyboard.press("Escape")
    with get_sessionmaker()() as session:
        rows = session.execute(select(Payment.status, Payment.reject_reason).order_by(Payment.id))
        assert [tuple(r) for r in rows] == [
            ("rejected", "Nama pengirim berbeda"),
            ("submitted", None),
            ("submitted", None),
        ]
