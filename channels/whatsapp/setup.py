"""`funrun whatsapp check`: the number's name, quality and throughput tier, and the webhook fields."""

from __future__ import annotations

import httpx

from channels.whatsapp.outbound import _call, _headers, graph_url
from core.config import Settings
from core.errors import ChannelError

PHONE_FIELDS = "verified_name,display_phone_number,quality_rating,throughput"
# Meta's throughput levels: messages per second a number may send.
TIERS = {"STANDARD": "80 messages/s", "HIGH": "1,000 messages/s (upgraded)", "NOT_APPLICABLE": "-"}
NEEDED_FIELDS = ("messages",)


def _require(settings: Settings) -> None:
    if settings.whatsapp_token is None:
        raise ChannelError("WHATSAPP_TOKEN is not set")
    if not settings.whatsapp_phone_number_id:
        raise ChannelError("WHATSAPP_PHONE_NUMBER_ID is not set")


def check(settings: Settings) -> str:
    """Describe the Cloud API number and whether Meta sends us the webhook fields we need."""
    _require(settings)
    with httpx.Client(timeout=15.0) as client:
        phone = _call(
            client,
            "GET",
            graph_url(settings, settings.whatsapp_phone_number_id or ""),
            headers=_headers(settings),
            params={"fields": PHONE_FIELDS},
        )
        fields = _subscribed_fields(client, settings)
    level = str((phone.get("throughput") or {}).get("level") or "unknown")
    lines = [
        f"number: {phone.get('display_phone_number', '?')} ({phone.get('verified_name', '?')})",
        f"quality rating: {phone.get('quality_rating', 'unknown')}",
        f"throughput: {level} ({TIERS.get(level, 'unknown tier')}); "
        f"sending at {settings.whatsapp_max_per_second:g}/s (WHATSAPP_MAX_PER_SECOND)",
    ]
    lines.append(_fields_line(fields))
    return "\n".join(lines)


def _subscribed_fields(client: httpx.Client, settings: Settings) -> list[str] | None:
    """The app's whatsapp_business_account webhook fields (needs WHATSAPP_APP_ID + app secret)."""
    if not settings.whatsapp_app_id or settings.whatsapp_app_secret is None:
        return None
    app_token = f"{settings.whatsapp_app_id}|{settings.whatsapp_app_secret.get_secret_value()}"
    body = _call(
        client,
        "GET",
        graph_url(settings, settings.whatsapp_app_id, "subscriptions"),
        params={"access_token": app_token},
    )
    fields: list[str] = []
    for item in body.get("data") or []:
        if item.get("object") == "whatsapp_business_account" and item.get("active", True):
            fields += [str(f.get("name")) for f in item.get("fields") or []]
    return fields


def _fields_line(fields: list[str] | None) -> str:
    if fields is None:
        return "webhook fields: not checked (set WHATSAPP_APP_ID to check them)"
    missing = [name for name in NEEDED_FIELDS if name not in fields]
    if missing:
        return f"webhook fields: NOT subscribed to {', '.join(missing)} (subscribed: {', '.join(fields) or 'none'})"
    return f"webhook fields: subscribed ({', '.join(fields)})"
