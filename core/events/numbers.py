"""Which WhatsApp (Fonnte) numbers serve an event, and the event's start links.

A deployment configures its Fonnte numbers in FONNTE_DEVICES (one WHATSAPP_PUBLIC_NUMBER when it
has a single number). Each event is served by all of them unless the organiser picks some: a big
event may get three numbers of its own while a small one shares a fourth. The short start link
(``/go/<slug>[/<CODE>]``) sends each runner to one of the event's numbers (workers/number_choice.py);
the per-number wa.me links stay available for organisers who want to place them by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core import audit
from core.config import Settings
from core.enums import WhatsAppProvider
from core.errors import InvalidSetting, NotFound
from core.models import Event

SHORT_LINK_PATH = "/go"


def digits(number: str | None) -> str:
    return "".join(ch for ch in number or "" if ch.isdecimal())


def configured(settings: Settings) -> list[str]:
    """The deployment's Fonnte numbers, as digits, in FONNTE_DEVICES order.

    Without FONNTE_DEVICES the one number is WHATSAPP_PUBLIC_NUMBER (when set).
    """
    numbers = _unique(digits(n) for n in settings.fonnte_devices)
    if numbers:
        return numbers
    public = digits(settings.whatsapp_public_number)
    return [public] if public else []


def of_event(event: Event, settings: Settings) -> list[str]:
    """The numbers runners of ``event`` are sent to (its choice, else all configured).

    A Cloud API event has the one official number (WHATSAPP_PUBLIC_NUMBER). A chosen number that
    was since removed from FONNTE_DEVICES is left out; when none of the chosen is left, all serve.
    """
    if event.whatsapp_provider == WhatsAppProvider.CLOUD.value:
        public = digits(settings.whatsapp_public_number)
        return [public] if public else []
    available = configured(settings)
    chosen = [n for n in event.whatsapp_numbers or [] if n in available]
    return chosen or available


def set_numbers(
    session: Session, *, event_id: int, numbers: Iterable[str], actor: str, settings: Settings
) -> Event:
    """Choose the Fonnte numbers that serve the event (at least one, each configured)."""
    event = session.scalar(select(Event).where(Event.id == event_id).with_for_update())
    if event is None:
        raise NotFound(f"events {event_id}")
    available = configured(settings)
    chosen = _unique(digits(n) for n in numbers)
    unknown = [n for n in chosen if n not in available]
    if unknown:
        raise InvalidSetting(f"not a configured number: {', '.join(unknown)}")
    if not chosen:
        raise InvalidSetting("choose at least one number")
    chosen = [n for n in available if n in chosen]  # the configuration's order
    before = event.whatsapp_numbers
    if before == chosen:
        return event
    event.whatsapp_numbers = chosen
    audit.record(
        session,
        actor=actor,
        action="event.whatsapp_numbers",
        subject_type="event",
        subject_id=event.id,
        before={"whatsapp_numbers": before},
        after={"whatsapp_numbers": chosen},
    )
    return event


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


# --- links -------------------------------------------------------------------------------------


def whatsapp_url(number: str | None, slug: str, code: str | None) -> str | None:
    """``https://wa.me/<number>?text=DAFTAR <slug> <code>``: the chat opens with the text typed."""
    number = digits(number)
    if not number:
        return None
    text = " ".join(part for part in ("DAFTAR", slug, code) if part)
    return f"https://wa.me/{number}?text={quote(text)}"


def telegram_url(bot: str | None, slug: str, code: str | None) -> str | None:
    """``https://t.me/<bot>?start=<slug>_<code>`` (a start payload allows no spaces)."""
    name = (bot or "").strip().lstrip("@")
    if not name:
        return None
    payload = f"{slug}_{code}" if code else slug
    return f"https://t.me/{name}?start={quote(payload[:64])}"


def short_url(settings: Settings, slug: str, code: str | None) -> str:
    """The one link to publish: it redirects to the event's least busy number."""
    path = f"{SHORT_LINK_PATH}/{quote(slug)}" + (f"/{quote(code)}" if code else "")
    return settings.public_base_url.rstrip("/") + path


@dataclass(frozen=True, slots=True)
class StartTarget:
    """What a short link needs, read once and cached by the redirect (no query per hit)."""

    slug: str
    codes: frozenset[str]
    numbers: tuple[str, ...]


def start_target(session: Session, slug: str, settings: Settings) -> StartTarget | None:
    """The event behind a short link's slug (None: no such event)."""
    event = session.scalar(
        select(Event).where(Event.slug == slug.lower()).options(selectinload(Event.categories))
    )
    if event is None:
        return None
    return StartTarget(
        slug=event.slug,
        codes=frozenset(c.code for c in event.categories),
        numbers=tuple(of_event(event, settings)),
    )
