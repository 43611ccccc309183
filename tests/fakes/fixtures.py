"""Fixtures for the fake channel servers (Telegram Bot API, Fonnte) on loopback.

``fake_telegram`` / ``fake_fonnte`` start the fake, point TELEGRAM_API_BASE / FONNTE_API_BASE at it
and clear the settings cache. Examples:

    fake_telegram.sent_texts(chat_id)          # texts sent to a chat, in order
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    fake_fonnte.sent("6281234567890")          # recorded /send requests
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest
from pydantic import SecretStr

from core.config import get_settings
from tests.fakes.fonnte_api import FakeFonnte
from tests.fakes.graph_api import FakeGraph
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram

F = TypeVar("F", FakeTelegram, FakeFonnte, FakeGraph)


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


@contextmanager
def _served(fake: F, env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[F]:
    """Serve ``fake`` on loopback and point the ``env`` setting at it."""
    with serve(fake.app) as url:
        fake.base_url = url
        monkeypatch.setenv(env, url)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


@pytest.fixture
def fake_telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    """A fake Bot API on 127.0.0.1; the app's settings point at it."""
    token = _secret(get_settings().telegram_bot_token)
    with _served(FakeTelegram(token), "TELEGRAM_API_BASE", monkeypatch) as fake:
        yield fake
        fake.release_all()  # held requests would keep the server from stopping


@pytest.fixture
def fake_fonnte(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFonnte]:
    """A fake Fonnte API on 127.0.0.1; the app's settings point at it."""
    token = _secret(get_settings().fonnte_token)
    with _served(FakeFonnte(token), "FONNTE_API_BASE", monkeypatch) as fake:
        yield fake


@pytest.fixture
def fake_graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    """A fake Meta Graph API (WhatsApp Cloud API) on 127.0.0.1; WHATSAPP_API_BASE points at it."""
    from workers import whatsapp

    whatsapp.resume()
    token = _secret(get_settings().whatsapp_token)
    with _served(FakeGraph(token), "WHATSAPP_API_BASE", monkeypatch) as fake:
        yield fake
    whatsapp.resume()
