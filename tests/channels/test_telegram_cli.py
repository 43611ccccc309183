"""`funrun telegram set-webhook URL` and `funrun telegram info` against the fake Bot API."""

from __future__ import annotations

from typer.testing import CliRunner

from app.cli import cli
from core.config import get_settings
from tests.fakes.telegram_api import FakeTelegram


def test_set_webhook_sends_secret_and_allowed_updates(fake_telegram: FakeTelegram) -> None:
    result = CliRunner().invoke(
        cli, ["telegram", "set-webhook", "https://run.example/webhooks/telegram"]
    )
    assert result.exit_code == 0, result.output
    assert "webhook set" in result.output
    hook = fake_telegram.webhook
    assert hook["url"] == "https://run.example/webhooks/telegram"
    assert hook["secret_token"] == get_settings().telegram_webhook_secret.get_secret_value()
    assert hook["allowed_updates"] == ["message", "callback_query"]


def test_info_shows_bot_and_webhook(fake_telegram: FakeTelegram) -> None:
    fake_telegram.webhook = {"url": "https://run.example/webhooks/telegram"}
    result = CliRunner().invoke(cli, ["telegram", "info"])
    assert result.exit_code == 0, result.output
    assert "@funrun_bot" in result.output
    assert "https://run.example/webhooks/telegram" in result.output
