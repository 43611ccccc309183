"""The broadcast form in a real browser: the category picker follows the segment, the preview and
count arrive without leaving the page (the chosen image stays), the progress page polls."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories as f
from tests.admin.test_layout_browser import ARTIFACTS, browser_page, ids  # noqa: F401

pytestmark = pytest.mark.browser


def test_preview_and_count_in_place(browser_page: Any, ids: dict[str, Any], tmp_path: Any) -> None:  # noqa: F811
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto("/admin/broadcasts")
    assert not page.is_visible("#category_id")  # only for "One category"
    page.select_option("#segment", "category")
    assert page.is_visible("#category_id")
    page.select_option("#segment", "unpaid")
    page.fill("#text", "Halo *pelari*! Race pack diambil _Jumat_ di Senayan. <b>x</b>")
    image = tmp_path / "poster.png"
    image.write_bytes(f.png_bytes())
    page.set_input_files("#image", str(image))
    page.click("#preview-btn")
    page.wait_for_selector("#preview .bubble-wa")
    assert page.url.endswith("/admin/broadcasts")  # no navigation: the file input keeps the image
    assert page.input_value("#image").endswith("poster.png")
    assert page.is_visible("#image-preview")
    reach = page.inner_text("#preview .reach")
    assert "1" in reach  # the one unpaid runner of the fixture
    wa = page.inner_html("#preview .bubble-wa")
    assert "<strong>pelari</strong>" in wa or "<b>pelari</b>" in wa
    assert "&lt;b&gt;x&lt;/b&gt;" in wa  # the admin's text is escaped, never HTML
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1440, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"broadcast-preview-{width}.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
