"""/healthz and /readyz, including 503 with the reason when the database is down."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from core.config import get_settings
from core.db import reset_engine


@pytest.fixture
def fresh_caches() -> Iterator[None]:
    get_settings.cache_clear()
    reset_engine()
    yield
    get_settings.cache_clear()
    reset_engine()


def test_healthz_and_readyz_ok(committed_db: None) -> None:
    client = TestClient(create_app())
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ok"


def test_readyz_503_when_database_down(monkeypatch: pytest.MonkeyPatch, fresh_caches: None) -> None:
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://funrun@127.0.0.1:1/funrun_test")
    get_settings.cache_clear()
    reset_engine()
    client = TestClient(create_app())
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert any(reason.startswith("database unreachable") for reason in body["reasons"])
    assert "Traceback" not in response.text
