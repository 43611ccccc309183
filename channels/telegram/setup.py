"""One-off Telegram set-up for the CLI: `funrun telegram set-webhook URL` and `funrun telegram info`."""

from __future__ import annotations

import httpx

from channels.telegram.outbound import call
from core.config import Settings
from core.errors import ChannelError

ALLOWED_UPDATES = ["message", "callback_query"]


def _require_token(settings: Settings) -> None:
    if settings.telegram_bot_token is None:
        raise ChannelError("TELEGRAM_BOT_TOKEN is not set")


def set_webhook(settings: Settings, url: str) -> str:
    """Point the bot at ``url`` with our secret token and the update types we handle."""
    _require_token(settings)
    if settings.telegram_webhook_secret is None:
        raise ChannelError("TELEGRAM_WEBHOOK_SECRET is not set")
    if not url.startswith("https://") and settings.app_env == "production":
        raise ChannelError("Telegram only delivers webhooks to https:// URLs")
    with httpx.Client(timeout=15.0) as client:
        call(
            client,
            settings,
            "setWebhook",
            data={
                "url": url,
                "secret_token": settings.telegram_webhook_secret.get_secret_value(),
                "allowed_updates": ALLOWED_UPDATES,
                "drop_pending_updates": False,
                "max_connections": 40,
            },
        )
    return f"webhook set: {url} (updates: {', '.join(ALLOWED_UPDATES)})"


def webhook_info(settings: Settings) -> str:
    """Describe the bot (getMe) and its webhook (getWebhookInfo)."""
    _require_token(settings)
    with httpx.Client(timeout=15.0) as client:
        me = call(client, settings, "getMe")
        info = call(client, settings, "getWebhookInfo")
    lines = [
        f"bot: @{me.get('username')} (id {me.get('id')})",
        f"webhook: {info.get('url') or '(none)'}",
        f"pending updates: {info.get('pending_update_count', 0)}",
        f"allowed updates: {', '.join(info.get('allowed_updates') or []) or '(default)'}",
    ]
    if info.get("last_error_message"):
        lines.append(f"last error: {info['last_error_message']}")
    return "\n".join(lines)
