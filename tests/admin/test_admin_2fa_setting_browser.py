"""The Settings page's staff security section in a real browser at 1440 and 390 px: the admin
ticks "Require two-factor sign-in for admins" and is sent to set up their own, not locked out."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from core.config import get_settings
from tests.admin.test_layout_browser import (  # noqa: F401
    ARTIFACTS,
    LAYOUT_CHECK,
    WIDTHS,
    browser_page,
    ids,
)

pytestmark = pytest.mark.browser


def test_admin_turns_on_2fa_for_admins_and_is_sent_to_enrol(
    browser_page: Any,  # noqa: F811
    ids: dict[str, Any],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = browser_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto("/admin/settings#security")
        section = page.locator("#security")
        assert "Wajibkan verifikasi dua langkah untuk admin" in section.inner_text()
        section.screenshot(path=str(ARTIFACTS / f"settings-security-{width}.png"))
        problems += [f"settings @ {width}px: {p}" for p in page.evaluate(LAYOUT_CHECK)]
    assert not problems, "\n".join(problems)
    page.check('#security input[name="require_2fa"]')
    page.click("#security button")
    page.wait_for_url("**/admin/account/2fa")
    assert "wajib memakai verifikasi dua langkah" in page.inner_text(".flash")
    page.screenshot(path=str(ARTIFACTS / "settings-security-enrol-390.png"), full_page=True)
    # Enrolled, the admin is back in; with the environment forcing it the box cannot be unticked.
    page.fill("#code", pyotp.TOTP(page.inner_text("#totp-secret")).now())
    page.click("main button")
    page.wait_for_load_state("networkidle")
    monkeypatch.setenv("REQUIRE_2FA_FOR_ADMINS", "true")
    get_settings.cache_clear()
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto("/admin/settings#security")
            box = page.locator('#security input[name="require_2fa"]')
            assert box.is_checked() and box.is_disabled()
            assert "REQUIRE_2FA_FOR_ADMINS" in page.inner_text("#security .forced-2fa")
            page.locator("#security").screenshot(
                path=str(ARTIFACTS / f"settings-security-forced-{width}.png")
            )
            problems += [f"forced @ {width}px: {p}" for p in page.evaluate(LAYOUT_CHECK)]
    finally:  # the cached settings must not keep the requirement for later tests
        monkeypatch.delenv("REQUIRE_2FA_FOR_ADMINS")
        get_settings.cache_clear()
    assert not problems, "\n".join(problems)
