"""The Settings page's staff security section in a real browser at 1440 and 390 px: the admin
ticks "Require two-factor sign-in for admins" and is sent to set up their own, not locked out."""

from __future__ import annotations

from typing import Any

import pytest

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
