"""Start links per event and category (wa.me with DAFTAR, t.me deep link) and their QR posters."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest

from core.config import get_settings
from core.db import get_sessionmaker
from core.models import Event


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("WHATSAPP_PUBLIC_NUMBER", "+62 812-3456-7890")
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "@FunRunBot")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _slug(event_id: int) -> str:
    with get_sessionmaker()() as session:
        return session.get(Event, event_id).slug


def test_event_page_lists_a_link_per_channel_and_category(client_for, seeded, configured) -> None:  # noqa: ANN001, ARG001
    client, _ = client_for("admin")
    page = html.unescape(client.get(f"/admin/events/{seeded.event_id}").text)
    slug = _slug(seeded.event_id)
    assert f"https://wa.me/6281234567890?text=DAFTAR%20{slug}%2010K" in page
    assert f"https://wa.me/6281234567890?text=DAFTAR%20{slug}<" in page  # the whole event
    assert f'data-copy="http://127.0.0.1:8000/go/{slug}/10K"' in page  # the short link to publish
    assert f"https://t.me/FunRunBot?start={slug}_10K" in page
    assert 'class="copy-link"' in page and "Tautan pendaftaran" in page
    assert f"/admin/events/{seeded.event_id}/poster?channel=telegram&category=10K" in page


def test_unconfigured_channels_say_what_to_set(client_for, seeded, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv("WHATSAPP_PUBLIC_NUMBER", raising=False)
    monkeypatch.delenv("TELEGRAM_BOT_USERNAME", raising=False)
    get_settings.cache_clear()
    client, _ = client_for("admin", lang="en")
    page = client.get(f"/admin/events/{seeded.event_id}").text
    assert "Set FONNTE_DEVICES or WHATSAPP_PUBLIC_NUMBER" in page and "wa.me" not in page
    get_settings.cache_clear()


def test_poster_has_the_event_category_qr_and_call(client_for, seeded, configured) -> None:  # noqa: ANN001, ARG001
    client, _ = client_for("admin")
    r = client.get(f"/admin/events/{seeded.event_id}/poster?channel=whatsapp&category=10K")
    assert r.status_code == 200
    assert "Scan untuk daftar" in r.text and "10K" in r.text and "@page{size:A4" in r.text
    assert re.search(r"<svg[^>]*>.*<path", r.text, re.S), "an inline SVG QR code"
    assert client.get(f"/admin/events/{seeded.event_id}/poster?channel=sms").status_code == 404
    assert client.get(f"/admin/events/{seeded.event_id}/poster?category=NOPE").status_code == 404
    verifier, _ = client_for("verifier")
    assert verifier.get(f"/admin/events/{seeded.event_id}/poster").status_code == 403
