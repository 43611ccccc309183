"""GET /go/<slug>[/<CODE>]: the published start link redirects to one of the event's numbers."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.config import get_settings
from core.db import unit_of_work
from core.events import numbers
from core.models import Event
from tests import factories as f
from webhooks import start_links

A, B, C = "628111000111", "628222000222", "628333000333"
SLUG = "jakarta-fun-run"


@pytest.fixture
def client(committed_db: None, redis_client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from app.main import create_app

    monkeypatch.setenv("FONNTE_DEVICES", json.dumps({A: "tok-a", B: "tok-b", C: "tok-c"}))
    get_settings.cache_clear()
    start_links.forget()
    with unit_of_work() as uow:
        f.demo_event(uow.session)
    with TestClient(create_app(), follow_redirects=False) as test_client:
        yield test_client
    start_links.forget()
    get_settings.cache_clear()


def _number(location: str) -> str:
    parts = urlsplit(location)
    assert parts.scheme == "https" and parts.netloc == "wa.me", location
    return parts.path.strip("/")


def test_the_link_opens_whatsapp_at_an_event_number_with_daftar_typed(client: TestClient) -> None:
    r = client.get(f"/go/{SLUG}/10K")
    assert r.status_code == 302 and r.headers["cache-control"] == "no-store"
    assert _number(r.headers["location"]) in {A, B, C}
    assert r.headers["location"].endswith(f"?text=DAFTAR%20{SLUG}%2010K")
    assert client.get(f"/go/{SLUG.upper()}/10k").headers["location"].endswith("%2010K")
    assert client.get(f"/go/{SLUG}").headers["location"].endswith(f"?text=DAFTAR%20{SLUG}")


def test_a_number_not_assigned_to_the_event_is_never_chosen(client: TestClient) -> None:
    with unit_of_work() as uow:
        event_id = uow.session.scalar(select(Event.id).where(Event.slug == SLUG))
        numbers.set_numbers(uow.session, event_id=event_id, numbers=[C, A], actor="test",
                            settings=get_settings())  # fmt: skip
    start_links.forget()
    hits = Counter(_number(client.get(f"/go/{SLUG}/5K").headers["location"]) for _ in range(60))
    assert hits == {A: 30, C: 30}


@pytest.mark.parametrize("path", ["/go/no-such-run", f"/go/{SLUG}/100K", "/go/%3Cscript%3E/x"])
def test_an_unknown_link_is_a_friendly_page_in_both_languages(
    client: TestClient, path: str
) -> None:
    r = client.get(path)
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert (
        "Tautan pendaftaran tidak ditemukan" in r.text and "Registration link not found" in r.text
    )
    assert "<script>" not in r.text


def test_no_number_configured_is_the_same_friendly_page(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FONNTE_DEVICES")
    monkeypatch.delenv("WHATSAPP_PUBLIC_NUMBER", raising=False)
    get_settings.cache_clear()
    start_links.forget()
    assert client.get(f"/go/{SLUG}").status_code == 404
