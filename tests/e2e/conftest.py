"""Fixtures for full registrations: demo data committed, webhooks, fake providers, a real worker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.config import get_settings
from core.db import unit_of_work
from core.services import demo
from tests.bot.helpers import webhook_app
from tests.flows.conftest import event  # noqa: F401  (the demo event in a rolled-back session)


@pytest.fixture
def demo_event(committed_db: None) -> int:
    """Seed "Jakarta Fun Run" in committed transactions; return its id."""
    with unit_of_work() as uow:
        return demo.seed(uow.session, admin_password="test-password-123").event_id


@pytest.fixture
def webhook_client(
    fake_telegram: Any, fake_fonnte: Any, worker: Any, demo_event: int, monkeypatch: Any
) -> Iterator[TestClient]:
    """The webhook routes in front of a real Redis broker and worker, and fake providers."""
    for name in (
        "TELEGRAM_MAX_PER_SECOND",
        "TELEGRAM_CHAT_MAX_PER_SECOND",
        "FONNTE_MAX_PER_SECOND",
    ):
        monkeypatch.setenv(name, "1000")
    monkeypatch.setenv("FLOOD_MAX_MESSAGES", "1000")
    get_settings.cache_clear()
    with TestClient(webhook_app(), raise_server_exceptions=False) as client:
        yield client
