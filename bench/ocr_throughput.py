"""Verifier throughput in a real browser: approving all-green screenshots one by one vs in one batch.

Seeds N waiting payments whose screenshot readings are all green, then a headless chromium signed
in as a verifier clears them (a) one by one in /admin/queue with the A shortcut, waiting for each
next item, and (b) with "Approve all green" + the confirmation on /admin/queue/checked. This measures
the interface and server only (no human reading time). Needs a throwaway PostgreSQL: `make bench`.
"""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench._report import machine, write_section
from bench.rush import _prepare_database, _reset
from core.db import unit_of_work, utcnow
from core.enums import Role
from core.models import PaymentAccount, PaymentImage
from core.payments.screenshot_reading import service
from core.payments.screenshot_reading.extract import Reading

N = 30
ACCOUNT = "2680402549"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _seed(n: int) -> str:
    """N all-green waiting payments; return the verifier's email."""
    from tests import factories as f

    with unit_of_work() as uow:
        session = uow.session
        event = f.demo_event(session, admin_password=f.PASSWORD)
        event.registration_opens_at = utcnow() - timedelta(days=2)
        event.registration_closes_at = utcnow() + timedelta(days=2)
        session.add(PaymentAccount(event_id=event.id, bank_name="BCA", account_number=ACCOUNT,
                                   holder_name="FUNRUN"))  # fmt: skip
        verifier = f.make_staff(session, Role.VERIFIER, password=f.PASSWORD)
        local = utcnow().astimezone(ZoneInfo(event.timezone)).replace(tzinfo=None)
        for _ in range(n):
            registration = f.make_registration(session, event)
            registration.created_at = utcnow() - timedelta(hours=1)
            payment = f.make_payment(session, registration)
            image = session.scalars(
                select(PaymentImage).where(PaymentImage.payment_id == payment.id)
            ).one()
            reading = Reading(amount=registration.amount_due, when=local - timedelta(minutes=5),
                              account=ACCOUNT, status="Berhasil", reference=f"R{payment.id:010d}")  # fmt: skip
            service.record(session, image_id=image.id, reading=reading, status=service.READ,
                           engine="bench", elapsed_ms=1)  # fmt: skip
        return verifier.email


def _login(page, email: str, path: str) -> None:  # noqa: ANN001
    from tests import factories as f

    page.goto(path)
    page.fill("#email", email)
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**" + path)


def one_by_one(page, email: str, n: int) -> float:  # noqa: ANN001
    _login(page, email, "/admin/queue")
    page.wait_for_selector("#photo")
    started = time.perf_counter()
    for _ in range(n):
        current = page.get_attribute("#queue-item [data-payment-id]", "data-payment-id")
        page.keyboard.press("a")
        page.wait_for_function(
            "id => { const el = document.querySelector('#queue-item [data-payment-id]');"
            " return !el || el.getAttribute('data-payment-id') !== id; }",
            arg=current,
        )
    page.wait_for_selector("#queue-empty")
    return time.perf_counter() - started


def batch(page, email: str) -> float:  # noqa: ANN001
    _login(page, email, "/admin/queue/checked")
    started = time.perf_counter()
    page.click("#approve-green-btn")
    page.click("#approve-green-confirm")
    page.wait_for_selector("#batch-status.flash-ok", timeout=300_000)
    return time.perf_counter() - started


def _run(mode: str, n: int) -> float:
    from playwright.sync_api import sync_playwright

    from app.main import create_app
    from tests.fakes.server import serve

    _reset()
    email = _seed(n)
    with serve(create_app()) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_context(base_url=url, viewport={"width": 1440, "height": 900}).new_page()
        page.set_default_timeout(60_000)
        seconds = one_by_one(page, email, n) if mode == "one" else batch(page, email)
        browser.close()
    return seconds


def main() -> None:
    _prepare_database()
    one = _run("one", N)
    many = _run("batch", N)
    write_section("ocr_throughput", [
        "## Verifier throughput: one by one vs approve all green (bench/ocr_throughput.py)", "",
        f"Machine: {machine()}.", "",
        f"{N} waiting payments, every check green; a headless chromium verifier at 1440 px. "
        "Interface and server time only (a person also looks at each photo one by one).", "",
        "| mode | seconds for all | per screenshot | screenshots per hour |", "|---|---|---|---|",
        f"| one by one (A, next item) | {one:.1f} | {one / N:.2f} s | {3600 * N / one:,.0f} |",
        f"| approve all green (batch + confirm) | {many:.1f} | {many / N:.2f} s | {3600 * N / many:,.0f} |",
    ])  # fmt: skip
    print(f"   one by one {one:.1f} s, batch {many:.1f} s for {N}")


if __name__ == "__main__":
    main()
