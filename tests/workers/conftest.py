from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.config import get_settings
from tests.channels.helpers import webhook_app


@pytest.fixture
def fast_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift rate and flood limits so tests are not paced by them (their own tests set them)."""
    monkeypatch.setenv("TELEGRAM_CHAT_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("TELEGRAM_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("FONNTE_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("FONNTE_CHAT_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("FLOOD_MAX_MESSAGES", "1000")
    get_settings.cache_clear()


@pytest.fixture
def channels(fake_telegram: Any, fake_fonnte: Any, fast_limits: None, worker: Any) -> Any:
    """Fake providers, a real Redis broker and worker, and a webhook client."""
    return fake_telegram, fake_fonnte


@pytest.fixture
def client(channels: Any) -> Iterator[TestClient]:
    with TestClient(webhook_app(), raise_server_exceptions=False) as test_client:
        yield test_client
