"""Browser test of the OCR checks: real screenshots read by the worker code, at 1440 and 390 px."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bench.ocr_corpus import Truth, render
from core import media
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.models import Event, Payment, PaymentAccount, PaymentImage
from tests import factories as f
from tests.admin.test_browser import ARTIFACTS, CHROMIUM_ARGS
from tests.fakes.server import serve

pytestmark = pytest.mark.browser
ACCOUNT = "2680402549"


def _payment_with_screenshot(session, event: Event, *, off_by: int) -> int:  # noqa: ANN001
    registration = f.make_registration(session, event)
    registration.created_at = utcnow() - timedelta(hours=1)
    payment = f.make_payment(session, registration)
    image = session.scalars(select(PaymentImage).where(PaymentImage.payment_id == payment.id)).one()
    local = (
        utcnow().astimezone(ZoneInfo(event.timezone)).replace(tzinfo=None, second=0, microsecond=0)
    )
    truth = Truth(registration.amount_due + off_by, local - timedelta(minutes=10), "SITI RAHAYU",
                  ACCOUNT, "YAYASAN LARI NUSANTARA", "BCA", "Berhasil", f"87252829{payment.id:04d}")  # fmt: skip
    picture = render("bca", truth, status_bar=True)
    picture.save(media.resolve(image.path), "PNG")
    image.width, image.height = picture.size
    return image.id


@pytest.fixture
def base_url(seeded, broker) -> Iterator[str]:  # noqa: ANN001
    from app.main import create_app
    from workers.screenshots import read_once

    with unit_of_work() as uow:
        event = uow.session.get(Event, seeded.event_id)
        event.registration_opens_at = utcnow() - timedelta(days=2)
        event.registration_closes_at = utcnow() + timedelta(days=2)
        uow.session.add(PaymentAccount(event_id=event.id, bank_name="BCA", account_number=ACCOUNT,
                                       holder_name="YAYASAN LARI NUSANTARA"))  # fmt: skip
        images = [_payment_with_screenshot(uow.session, event, off_by=d) for d in (-50_000, 0)]
    for image_id in images:
        assert read_once(image_id) == "read"
    with serve(create_app()) as url:
        yield url


@pytest.fixture
def browser():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _login(browser, base_url: str, seeded, width: int):  # noqa: ANN001, ANN202
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto("/admin/queue/checked")
    page.fill("#email", seeded.emails["verifier"])
    page.fill("#password", f.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/queue/checked")
    return context, page


def test_checks_boxes_and_batch_approval(browser, base_url: str, seeded) -> None:  # noqa: ANN001
    ARTIFACTS.mkdir(exist_ok=True)
    context, page = _login(browser, base_url, seeded, 1440)
    rows = page.locator("table.checked tbody tr")
    assert rows.count() == 2
    assert "green" in (rows.nth(0).get_attribute("class") or "")  # all green first
    assert "short by Rp50.000" in rows.nth(1).inner_text()
    page.screenshot(path=str(ARTIFACTS / "ocr-checked-1440.png"), full_page=True)
    page.click("#approve-green-btn")
    page.click("#approve-green-confirm")
    page.wait_for_selector("#batch-status.flash-ok")
    assert "1 pembayaran disetujui" in page.text_content("#batch-status")
    with get_sessionmaker()() as session:
        assert sorted(session.scalars(select(Payment.status))) == ["approved", "submitted"]

    page.goto("/admin/queue")
    page.wait_for_selector("#ocr-verdict")
    page.wait_for_selector(".ocr-frame .ocr-box.bad")  # the misread-or-wrong amount, boxed in red
    assert "Perlu diperiksa" in page.text_content("#ocr-verdict")  # Indonesian by default
    box = page.locator(".ocr-box[data-field=amount]").bounding_box()
    photo = page.locator("#photo").bounding_box()
    assert (
        box
        and photo
        and photo["x"] <= box["x"]
        and box["y"] + box["height"] <= photo["y"] + photo["height"]
    )
    page.screenshot(path=str(ARTIFACTS / "ocr-queue-1440.png"), full_page=True)
    context.close()

    context, page = _login(browser, base_url, seeded, 390)
    page.screenshot(path=str(ARTIFACTS / "ocr-checked-390.png"), full_page=True)
    page.goto("/admin/queue")
    page.wait_for_selector(".ocr-frame .ocr-box")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # nothing forces a sideways scroll on a phone
    page.screenshot(path=str(ARTIFACTS / "ocr-queue-390.png"), full_page=True)
    context.close()
