"""/healthz and /readyz, including 503 with the reason when the database is down."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _app_with_redis(monkeypatch: pytest.MonkeyPatch, url: str) -> TestClient:
    monkeypatch.setenv("REDIS_URL", url)
    get_settings.cache_clear()
    return TestClient(create_app(get_settings()))


def test_readyz_503_when_broker_port_is_closed(
    committed_db: None, monkeypatch: pytest.MonkeyPatch, fresh_caches: None
) -> None:
    client = _app_with_redis(monkeypatch, f"redis://127.0.0.1:{_free_port()}/0")
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reasons": ["broker unreachable: ConnectionError"],
    }
    assert "Traceback" not in response.text


def test_readyz_turns_503_when_redis_stops(
    committed_db: None, monkeypatch: pytest.MonkeyPatch, fresh_caches: None, tmp_path: Path
) -> None:
    server = shutil.which("redis-server")
    assert server, "redis-server is missing: `make test` installs it"
    port = _free_port()
    redis_proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
    )
    try:
        client = _app_with_redis(monkeypatch, f"redis://127.0.0.1:{port}/0")
        deadline = time.monotonic() + 10
        while (ready := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.status_code == 200, ready.text
    finally:
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reasons"] == ["broker unreachable: ConnectionError"]
