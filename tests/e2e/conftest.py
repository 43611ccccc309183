"""Fixtures for full registrations: demo data committed, webhooks, fake providers, a real worker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from core import demo
from core.config import get_settings
from core.db import unit_of_work
from tests.channels.helpers import webhook_app
from tests.fakes.server import serve
from tests.flows.conftest import event  # noqa: F401  (the demo event in a rolled-back session)

DEMO_ADMIN_PASSWORD = "test-password-123"


def _lift_rate_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scripted runner types faster than a human: keep the provider and flood limits out of it."""
    for name in (
        "TELEGRAM_MAX_PER_SECOND",
        "TELEGRAM_CHAT_MAX_PER_SECOND",
        "FONNTE_MAX_PER_SECOND",
        "FONNTE_CHAT_MAX_PER_SECOND",
        "WHATSAPP_MAX_PER_SECOND",
        "WHATSAPP_PAIR_PER_SECOND",
    ):
        monkeypatch.setenv(name, "1000")
    monkeypatch.setenv("FLOOD_MAX_MESSAGES", "1000")
    get_settings.cache_clear()


@pytest.fixture
def demo_event(committed_db: None) -> int:
    """Seed "Jakarta Fun Run" in committed transactions; return its id."""
    with unit_of_work() as uow:
        return demo.seed(uow.session, admin_password=DEMO_ADMIN_PASSWORD).event_id


@pytest.fixture
def webhook_client(
    fake_telegram: Any, fake_fonnte: Any, worker: Any, demo_event: int, monkeypatch: Any
) -> Iterator[TestClient]:
    """The webhook routes in front of a real Redis broker and worker, and fake providers."""
    _lift_rate_limits(monkeypatch)
    with TestClient(webhook_app(), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def live_server(
    fake_telegram: Any,
    fake_fonnte: Any,
    worker: Any,
    demo_event: int,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """The whole product (create_app) served by uvicorn on 127.0.0.1; yields its base URL.

    Behind it: the real Redis broker and dramatiq worker, PostgreSQL, and the fake providers.
    """
    from app.main import create_app

    _lift_rate_limits(monkeypatch)
    monkeypatch.setenv("SIMULATOR", "1")
    get_settings.cache_clear()
    with serve(create_app()) as url:
        yield url
    get_settings.cache_clear()


# -- helpers shared by the end-to-end scenarios (plain functions, imported by the tests) ----------

CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def staff_login(base_url: str, email: str, password: str) -> tuple[httpx.Client, str]:
    """Log in through the admin form (CSRF token read from the page); return client and new token."""
    client = httpx.Client(base_url=base_url, timeout=15)
    csrf = CSRF_META.search(client.get("/admin/login").text)
    assert csrf
    form = {"email": email, "password": password, "csrf_token": csrf.group(1)}
    landed = client.post("/admin/login", data=form, follow_redirects=True)
    assert landed.status_code == 200 and "Staff login" not in landed.text, landed.text[:500]
    token = CSRF_META.search(landed.text)
    assert token
    return client, token.group(1)


def scan_twice(client: httpx.Client, code: str) -> list[dict[str, Any]]:
    """Scan ``code`` at /checkin twice (two different scans, not a retry); return both answers."""
    page = client.get("/checkin").text
    csrf, event_id = CSRF_META.search(page), re.search(r'name="event_id" value="(\d+)"', page)
    assert csrf and event_id, page[:500]
    headers = {"X-CSRF-Token": csrf.group(1), "Accept": "application/json"}
    results = []
    for nonce in ("scan-0001-first", "scan-0002-second"):
        data = {"code": code, "nonce": nonce, "event_id": event_id.group(1)}
        r = client.post("/checkin/scan", data=data, headers=headers)
        assert r.status_code == 200, r.text
        results.append(r.json())
    return results
