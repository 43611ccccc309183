"""Browser tests (Debian chromium): enrol in 2FA from the account page, sign in with the code,
sign out everywhere else; honour a runner's deletion request on the Personal data page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.models import Conversation, DeletionRequest, Event, Registration
from tests import factories as f
from tests.fakes.server import serve

pytestmark = pytest.mark.browser
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def browser(seeded, broker) -> Iterator[tuple[Any, str]]:  # noqa: ANN001
    from playwright.sync_api import sync_playwright

    from app.main import create_app

    with serve(create_app()) as url, sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium, url
        chromium.close()


def _tab(browser: tuple[Any, str], width: int = 1280) -> Any:
    chromium, url = browser
    context = chromium.new_context(base_url=url, viewport={"width": width, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    return tab


def _password(tab: Any, email: str) -> None:
    tab.goto("/admin/login")
    tab.fill("#email", email)
    tab.fill("#password", f.PASSWORD)
    tab.click("button[type=submit]")


def _shot(tab: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_enrol_sign_in_with_a_code_and_sign_out_everywhere_else(browser, seeded) -> None:  # noqa: ANN001
    email = seeded.emails["admin"]
    laptop = _tab(browser)
    _password(laptop, email)
    laptop.wait_for_url("**/admin/")
    laptop.goto("/admin/account")
    laptop.click("#twofa-enrol")
    laptop.wait_for_selector("#totp-qr svg")
    _shot(laptop, "account-2fa-enrol")
    totp = pyotp.TOTP(laptop.text_content("#totp-secret").strip())
    enrol_step = int(time.time()) // totp.interval
    laptop.fill("#code", totp.at(enrol_step * totp.interval))
    laptop.click("button[type=submit]")
    laptop.wait_for_selector("#recovery-codes")
    codes = [c.strip() for c in laptop.locator("#recovery-codes li").all_text_contents()]
    assert len(codes) == 10
    _shot(laptop, "account-2fa-codes")
    laptop.click("text=Selesai")
    assert "Sisa kode pemulihan: 10" in laptop.text_content("#twofa-state")

    phone = _tab(browser, width=390)
    _password(phone, email)
    phone.wait_for_url("**/admin/login/code")
    _shot(phone, "login-code-phone")
    phone.fill("#code", "000000")
    phone.click("button[type=submit]")
    assert "Kode salah" in phone.text_content(".flash-error")
    # A time step is accepted once: the enrolment used its own, so sign in with a later one (the
    # server accepts one step of clock drift either way; a slow machine may already be past it).
    step = max(int(time.time()) // totp.interval, enrol_step + 1)
    phone.fill("#code", totp.at(step * totp.interval))
    phone.click("button[type=submit]")
    phone.wait_for_url("**/admin/")

    laptop.goto("/admin/account")
    assert laptop.locator(".session-row").count() == 2
    _shot(laptop, "account-sessions")
    laptop.click("#sign-out-others")
    laptop.wait_for_selector(".flash-ok")
    assert laptop.locator(".session-row").count() == 1
    phone.goto("/admin/registrations")
    assert "/admin/login" in phone.url, "the phone's session was ended"


def test_honour_a_deletion_request_in_the_browser(browser, seeded) -> None:  # noqa: ANN001
    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        reg = f.make_registration(uow.session, event, full_name="Sri Wahyuni")
        conversation = Conversation(channel=reg.channel, chat_id=reg.chat_id, language="id")
        uow.session.add(conversation)
        uow.session.flush()
        uow.session.add(DeletionRequest(channel=reg.channel, chat_id=reg.chat_id,
                                        conversation_id=conversation.id))  # fmt: skip
        reg_id, number = reg.id, reg.number
    tab = _tab(browser)
    _password(tab, seeded.emails["admin"])
    tab.wait_for_url("**/admin/")
    tab.click("nav >> text=Data pribadi")
    tab.wait_for_selector(".deletion-row")
    assert number in tab.text_content(".deletion-row")
    _shot(tab, "privacy-requests")
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.click("button.honour")
    tab.wait_for_selector(".flash-ok")
    assert "Dihapus" in tab.text_content(".deletion-row")
    with get_sessionmaker()() as session:
        name = session.scalar(
            select(Registration).where(Registration.id == reg_id)
        ).participant.full_name  # type: ignore[union-attr]
    assert name == "[deleted]"
