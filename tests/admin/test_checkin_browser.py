"""Browser test of /checkin in Debian chromium: open a desk with the PIN, type a code, scan a QR."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.fulfilment.ticket_image import qr_image
from tests.admin.test_checkin import PIN, paid_registration, set_pin
from tests.fakes.server import serve

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with serve(app) as url:
        yield url


def fake_camera(png: bytes, path: Path) -> Path:
    """Write a Y4M video showing ``png`` (chromium's fake camera plays it in a loop)."""
    image = cv2.imdecode(np.frombuffer(png, dtype=np.uint8), cv2.IMREAD_COLOR)
    image = cv2.resize(image, (640, 640))  # even sides, as 4:2:0 needs
    yuv = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)
    with path.open("wb") as fh:
        fh.write(b"YUV4MPEG2 W640 H640 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(10):
            fh.write(b"FRAME\n" + yuv.tobytes())
    return path


def test_desk_types_a_code_and_scans_a_ticket(seeded, base_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    set_pin(seeded.event_id)
    typed = paid_registration(seeded.event_id, full_name="Siti Aminah", jersey_size="L")
    scanned = paid_registration(seeded.event_id, full_name="Budi Santoso", jersey_size="XL")
    buffer = io.BytesIO()
    qr_image(scanned["token"], 560).save(buffer, format="PNG")
    video = fake_camera(buffer.getvalue(), tmp_path / "camera.y4m")
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=args, headless=True)
        page = browser.new_page(viewport={"width": 390, "height": 844})
        page.goto(f"{base_url}/checkin")
        page.fill("#name", "Meja 2")
        page.fill("#pin", PIN)
        page.click("button[type=submit]")
        expect(page.locator("#desk-name")).to_have_text("Meja 2")

        page.fill("#code", typed["number"])
        page.click("#check")
        expect(page.locator("#result")).to_have_class("result result-ok")
        expect(page.locator("#result-message")).to_have_text("BERHASIL — berikan race pack")
        expect(page.locator("#r-name")).to_have_text("Siti Aminah")
        expect(page.locator("#r-jersey")).to_have_text("L")

        page.fill("#code", typed["bib"])
        page.click("#check")
        expect(page.locator("#result")).to_have_class("result result-bad")
        expect(page.locator("#result-message")).to_contain_text("SUDAH DIAMBIL")

        page.click("#scan-toggle")
        expect(page.locator("#r-name")).to_have_text("Budi Santoso", timeout=15_000)
        expect(page.locator("#result")).to_have_class("result result-ok")
        expect(page.locator("#r-bib")).to_have_text(scanned["bib"])
        browser.close()
