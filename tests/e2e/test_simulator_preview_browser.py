"""The simulator as a runner uses it, in a real browser (S1–S5 of the new-user review).

Preview modes (WhatsApp numbered text, Cloud API rows, Telegram buttons), the start hint until the
first message, a sent photo as a thumbnail, the page's words in the chat's language, the log
scrolled to the newest message once images load; whole registrations in Indonesian and English.
Screenshots go to test-artifacts/ (look at them).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.answers import answers_for
from tests.e2e.test_simulator_browser import ARTIFACTS, CHROMIUM_ARGS, new_page

pytestmark = pytest.mark.browser
PHONE = "081266668888"


@pytest.fixture
def chromium(live_server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield launched
        launched.close()


SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def say(page: Any, text: str) -> None:
    """Type like a user (Enter sends), then wait until the bot has answered it."""
    before = page.locator(".msg.out").count()
    page.fill("#text", text)
    page.press("#text", "Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.out').length > n"
        " && document.querySelector('#log').lastElementChild.classList.contains('out')",
        arg=before,
    )
    page.wait_for_timeout(300)  # the worker may send a second bubble for the same message


def tap(page: Any, label_start: str) -> None:
    """Tap the newest button or row whose text starts with ``label_start``."""
    before = page.locator(".msg.out").count()
    buttons = page.locator(".msg.out").last.locator(".choices button")
    buttons.filter(has_text=label_start).first.click()
    page.wait_for_function("n => document.querySelectorAll('.msg.out').length > n", arg=before)
    page.wait_for_timeout(300)


def no_overflow(page: Any) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner + 1, f"horizontal overflow: {width}px > {inner}px"


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"simulator-{name}.png"))


def screenshot_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (300, 520), (10, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("mode", ["whatsapp", "cloud", "telegram"])
def test_each_preview_fits_and_shows_choices_once(
    chromium: Any, live_server: str, mode: str, size: str
) -> None:
    page = new_page(chromium, live_server, viewport=SIZES[size])
    page.goto(f"/simulator?phone=08126666{len(mode)}{len(size)}11&as={mode}")
    page.wait_for_timeout(1500)  # a poll or two: the start hint must survive them (S2)
    assert page.locator("#hint").is_visible()
    say(page, "DAFTAR")
    page.locator(".msg.out", has_text="kategori").wait_for()
    assert page.locator("#hint").count() == 0
    category = page.locator(".msg.out").last
    text, buttons = category.inner_text(), category.locator(".choices button").count()
    if mode == "whatsapp":  # numbered text only (S1: not twice)
        assert "1. 5K" in text and buttons == 0
    elif (
        mode == "telegram"
    ):  # short buttons; the long lines are listed in the text, as the bot does
        labels = category.locator(".choices button").all_inner_texts()
        assert buttons == 3 and labels[0].startswith("1. 5K · Rp"), labels
        assert all(len(label) <= 34 for label in labels) and "1. 5K — " in text
    else:  # the Cloud API reply buttons (3 options), exactly the body Meta receives
        assert buttons == 3 and "1-3" in text  # reply buttons; the body keeps typeable numbers
    assert page.locator(f'.modes a[href$="as={mode}"][aria-current]').count() == 1
    no_overflow(page)
    shot(page, f"{mode}-{size}")


def test_register_in_indonesian_on_whatsapp_and_send_the_proof(
    chromium: Any, live_server: str, tmp_path: Any
) -> None:
    page = new_page(chromium, live_server, viewport=SIZES["phone"], device_scale_factor=2)
    page.goto(f"/simulator?phone={PHONE}&as=whatsapp")
    say(page, "DAFTAR")
    for answer in answers_for("simulator", email="dewi.sim@example.com"):
        say(page, answer)
    page.locator(".msg.out", has_text="Ringkasan pendaftaran").last.wait_for()
    assert "Biaya pendaftaran" in page.locator(".msg.out").last.inner_text()
    shot(page, "id-summary")
    say(page, "ubah nama")
    say(page, "Dewi Lestari")
    say(page, "YA")
    page.locator(".msg.out", has_text="Pendaftaran diterima").wait_for()
    proof = tmp_path / "transfer.png"
    proof.write_bytes(screenshot_png())
    page.set_input_files("#image", str(proof))
    before = page.locator(".msg.out").count()
    page.press("#text", "Enter")
    page.wait_for_function("n => document.querySelectorAll('.msg.out').length > n", arg=before)
    thumb = page.locator(".msg.in img.thumb").last
    thumb.wait_for()
    assert page.evaluate("img => img.naturalWidth > 0", thumb.element_handle())  # S3
    page.wait_for_timeout(500)
    at_end = page.evaluate(
        "(() => { const l = document.getElementById('log');"
        " return l.scrollHeight - l.scrollTop - l.clientHeight < 4; })()"
    )
    assert at_end  # S5: scrolled to the newest message after the image loaded
    no_overflow(page)
    shot(page, "id-proof")


def test_register_in_english_on_telegram_by_tapping(chromium: Any, live_server: str) -> None:
    page = new_page(chromium, live_server, viewport=SIZES["phone"], device_scale_factor=2)
    page.goto("/simulator?phone=081266669999&as=telegram")
    say(page, "LANGUAGE en")
    assert page.get_attribute("#text", "placeholder") == "Type a message…"  # S4
    assert page.inner_text("#switch") == "Change number"
    say(page, "REGISTER")
    tap(page, "2. 10K")
    assert page.locator(".msg.in").last.inner_text().startswith("2. 10K · Rp")  # the label tapped
    say(page, "Jane Smith")
    tap(page, "2. Female")
    say(page, "31 may 92")
    say(page, "jane@gmial.com")
    assert "Did you mean" in page.locator(".msg.out").last.inner_text()
    say(page, "yes")
    say(page, "YES")  # the phone the simulator writes from
    tap(page, "3. M")
    say(page, "Pak Hendra (husband)")
    say(page, "081298765432")
    tap(page, "4. O")
    say(page, "-")
    summary = page.locator(".msg.out").last.inner_text()
    assert "jane@gmail.com" in summary and "31-05-1992" in summary
    assert "Registration fee" in summary
    # As on Telegram: yes / edit / cancel, and "edit" lists the answers as buttons.
    buttons = page.locator(".msg.out").last.locator(".choices button").all_inner_texts()
    assert buttons == ["1. Yes, register", "2. Edit", "3. Cancel"]
    assert "pick the answer" not in summary and "*EDIT*" not in summary and "EDIT" in summary
    shot(page, "en-summary")
    tap(page, "2. Edit")
    assert "Which answer" in page.locator(".msg.out").last.inner_text()
    shot(page, "en-fields")
    tap(page, "2. Full name")
    say(page, "Jane Doe")
    say(page, "edit email")  # typed words work too
    say(page, "SAME")
    tap(page, "1. Yes")
    page.locator(".msg.out", has_text="Registration received").wait_for()
    no_overflow(page)
    shot(page, "en-done")
