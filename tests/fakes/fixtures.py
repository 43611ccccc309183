"""Fixtures for the fake channel servers (Telegram Bot API, Fonnte) on loopback.

``fake_telegram`` / ``fake_fonnte`` start the fake, point TELEGRAM_API_BASE / FONNTE_API_BASE at it
and clear the settings cache. Examples:

    fake_telegram.sent_texts(chat_id)          # texts sent to a chat, in order
    fake_telegram.fail_next("sendMessage", status=429, retry_after=1)
    fake_fonnte.sent("6281234567890")          # recorded /send requests
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.config import get_settings
from tests.fakes.fonnte_api import FakeFonnte
from tests.fakes.server import serve
from tests.fakes.telegram_api import FakeTelegram


@pytest.fixture
def fake_telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeTelegram]:
    """A fake Bot API on 127.0.0.1; the app's settings point at it."""
    settings = get_settings()
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    fake = FakeTelegram(token)
    with serve(fake.app) as url:
        fake.base_url = url
        monkeypatch.setenv("TELEGRAM_API_BASE", url)
        get_settings.cache_clear()
        yield fake
        fake.release_all()  # held requests would keep the server from stopping
    get_settings.cache_clear()


@pytest.fixture
def fake_fonnte(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeFonnte]:
    """A fake Fonnte API on 127.0.0.1; the app's settings point at it."""
    settings = get_settings()
    token = settings.fonnte_token.get_secret_value() if settings.fonnte_token else ""
    fake = FakeFonnte(token)
    with serve(fake.app) as url:
        fake.base_url = url
        monkeypatch.setenv("FONNTE_API_BASE", url)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()
