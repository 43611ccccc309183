"""Start links per event and category (wa.me with DAFTAR, t.me deep link) and their QR posters."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.config import get_settings
from core.db import get_sessionmaker
from core.models import AuditLog, Event


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


DEVICES = {"628111000111": "tok-a", "628222000222": "tok-b", "628333000333": "tok-c"}


@pytest.fixture
def three_numbers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    monkeypatch.setenv("FONNTE_DEVICES", json.dumps(DEVICES))
    monkeypatch.setenv("TELEGRAM_BOT_USERNAME", "FunRunBot")
    get_settings.cache_clear()
    yield list(DEVICES)
    get_settings.cache_clear()


def _numbers_of(event_id: int) -> list[str] | None:
    with get_sessionmaker()() as session:
        return session.get(Event, event_id).whatsapp_numbers


def test_the_event_page_publishes_the_short_link_and_lists_each_number(
    client_for,
    seeded,
    three_numbers,  # noqa: ANN001
) -> None:
    client, _ = client_for("admin", lang="en")
    page = html.unescape(client.get(f"/admin/events/{seeded.event_id}").text)
    slug = _slug(seeded.event_id)
    assert f'data-copy="http://127.0.0.1:8000/go/{slug}/10K"' in page
    for number in three_numbers:  # every number's own link, and a box to choose it (all by default)
        assert f"https://wa.me/{number}?text=DAFTAR%20{slug}%2010K" in page
        assert f'name="number" value="{number}" checked' in page
    assert (
        "Each number's own link (3)" in page and f"https://t.me/FunRunBot?start={slug}_10K" in page
    )
    poster = client.get(f"/admin/events/{seeded.event_id}/poster?channel=whatsapp&category=10K")
    assert f"http://127.0.0.1:8000/go/{slug}/10K" in poster.text


def test_the_admin_chooses_the_numbers_of_an_event_audited(
    client_for,
    seeded,
    three_numbers,  # noqa: ANN001
) -> None:
    a, b, c = three_numbers
    client, token = client_for("admin", lang="en")
    url = f"/admin/events/{seeded.event_id}/numbers"
    r = client.post(url, data={"number": [c, a], "csrf_token": token})
    assert "Numbers for this event saved." in r.text and _numbers_of(seeded.event_id) == [a, c]
    page = html.unescape(r.text)
    assert f'value="{b}">' in page and f"https://wa.me/{b}" not in page  # unchecked, not linked
    with get_sessionmaker()() as session:
        entry = session.scalars(
            select(AuditLog).where(AuditLog.action == "event.whatsapp_numbers")
        ).one()
    assert entry.after == {"whatsapp_numbers": [a, c]} and entry.actor == "admin@funrun.local"
    for bad in ({"number": "6289999"}, {}):
        refused = client.post(url, data={**bad, "csrf_token": token})
        assert "Numbers not saved" in refused.text and _numbers_of(seeded.event_id) == [a, c]
    assert client.post(url, data={"number": a}).status_code in (400, 403)  # no CSRF token
    verifier, vtoken = client_for("verifier")
    assert verifier.post(url, data={"number": a, "csrf_token": vtoken}).status_code == 403
    assert _numbers_of(seeded.event_id) == [a, c]


def test_operations_shows_each_numbers_start_link_runners_and_pause(
    client_for,
    seeded,
    three_numbers,
    redis_client,  # noqa: ANN001
) -> None:
    from workers.number_choice import choose_number
    from workers.ratelimit import Limiter

    a, b, c = three_numbers
    Limiter(redis_client).pause(f"wa:{c}", 30)
    for _ in range(4):
        choose_number([a, b, c])
    client, _ = client_for("admin", lang="en")
    page = client.get("/admin/operations").text
    rows = {n: page[page.index(f"<td>{n}</td>") :].split("</tr>")[0] for n in three_numbers}
    assert '<td class="num">2</td>' in rows[a] and '<td class="num">2</td>' in rows[b]
    assert "s more" in rows[c] and '<td class="num">0</td><td>' in rows[c]
