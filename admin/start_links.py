"""Start links an organiser shares (Instagram bio, posters): per event and category, per channel.

WhatsApp: the short link ``<PUBLIC_BASE_URL>/go/<slug>/<code>`` redirects each runner to the least
busy of the event's numbers (webhooks/start_links.py), at
``https://wa.me/<number>?text=DAFTAR%20<slug>%20<code>`` (each number's own link is listed too);
Telegram: ``https://t.me/<bot>?start=<slug>_<code>`` (a payload allows no spaces). The chat
understands both (flows.starting._preset). Each link has a printable A4 QR poster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from admin.auth import require_roles
from admin.templating import templates
from core import qr
from core.config import Settings, get_settings
from core.db import get_sessionmaker
from core.enums import Role
from core.events import numbers
from core.models import AdminUser, Event

router = APIRouter(prefix="/admin/events")
admin_only = require_roles(Role.ADMIN)
CHANNELS = ("whatsapp", "telegram")
# Runners read the poster, whatever the staff language: Indonesian first, English below.
POSTER_CALL = ("Scan untuk daftar", "Scan to register")


@dataclass(frozen=True, slots=True)
class StartLink:
    channel: str  # "whatsapp" | "telegram"
    category: str | None  # a category code; None for the event's own link
    url: str | None  # None while the channel's number or bot name is not configured
    # WhatsApp: the wa.me link of each of the event's numbers (the short ``url`` picks one per hit).
    per_number: tuple[tuple[str, str], ...] = ()


def links(event: Event, settings: Settings) -> list[StartLink]:
    """The event's own link, then one per category, for each channel."""
    codes: list[str | None] = [None, *(c.code for c in event.categories)]
    event_numbers = numbers.of_event(event, settings)
    out = []
    for code in codes:
        per_number = tuple(
            (n, url) for n in event_numbers if (url := numbers.whatsapp_url(n, event.slug, code))
        )
        short = numbers.short_url(settings, event.slug, code) if per_number else None
        out.append(StartLink("whatsapp", code, short, per_number))
        out.append(
            StartLink(
                "telegram",
                code,
                numbers.telegram_url(settings.telegram_bot_username, event.slug, code),
            )
        )
    return out


def qr_svg(url: str) -> Markup:
    """The link as an inline SVG QR code (sharp at any print size)."""
    return Markup(qr.svg(url, box_size=20))  # drawn by qrcode: no user text in it


@router.get("/{event_id}/poster", response_class=HTMLResponse)
def poster(
    request: Request,
    event_id: int,
    channel: str = "whatsapp",
    category: str = "",
    _user: AdminUser = Depends(admin_only),
) -> Response:
    """A printable A4 poster: event name, category, the QR code and "Scan untuk daftar"."""
    with get_sessionmaker()() as session:
        event = session.get(Event, event_id)
        if event is None or channel not in CHANNELS:
            raise HTTPException(status_code=404)
        found = next((c for c in event.categories if c.code == category), None)
        if category and found is None:
            raise HTTPException(status_code=404)
        link = _link(event, channel, found.code if found else None)
        ctx: dict[str, Any] = {
            "event": event,
            "category": found,
            "channel": channel,
            "url": link,
            "qr": qr_svg(link) if link else None,
            "call": POSTER_CALL,
        }
        return templates.TemplateResponse(request, "start_poster.html", ctx)


def _link(event: Event, channel: str, code: str | None) -> str | None:
    """The poster's link: the short one for WhatsApp (spread over the numbers), t.me for Telegram."""
    settings = get_settings()
    if channel == "whatsapp":
        return (
            numbers.short_url(settings, event.slug, code)
            if numbers.of_event(event, settings)
            else None
        )
    return numbers.telegram_url(settings.telegram_bot_username, event.slug, code)
