"""Which WhatsApp number an event uses: the Fonnte device or the official Cloud API number.

Both may run at once for different events. A runner's conversation belongs to the number they
write to; the event's choice is the number the organiser publishes (and is checked here to be set
up, so an event never points runners at a number nobody answers).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.config import Settings
from core.enums import Channel, WhatsAppProvider
from core.errors import NotFound, ServiceError
from core.models import Event

CHANNELS = {
    WhatsAppProvider.FONNTE: Channel.WHATSAPP,
    WhatsAppProvider.CLOUD: Channel.WHATSAPP_CLOUD,
}


class ProviderNotConfigured(ServiceError):
    key = "error.generic"


def configured(settings: Settings) -> dict[WhatsAppProvider, bool]:
    """Whether each provider has its credentials in this deployment."""
    return {
        WhatsAppProvider.FONNTE: settings.fonnte_token is not None,
        WhatsAppProvider.CLOUD: bool(settings.whatsapp_token and settings.whatsapp_phone_number_id),
    }


def channel_of(event: Event) -> Channel:
    """The chat channel of the event's WhatsApp number."""
    return CHANNELS.get(WhatsAppProvider(event.whatsapp_provider), Channel.WHATSAPP)


def set_provider(
    session: Session, *, event_id: int, provider: WhatsAppProvider, actor: str, settings: Settings
) -> Event:
    """Choose the event's WhatsApp number (refused when that provider is not set up)."""
    event = session.scalar(select(Event).where(Event.id == event_id).with_for_update())
    if event is None:
        raise NotFound(f"events {event_id}")
    if not configured(settings)[provider]:
        raise ProviderNotConfigured(f"{provider.value} is not configured in this deployment")
    before = event.whatsapp_provider
    if before == provider.value:
        return event
    event.whatsapp_provider = provider.value
    audit.record(
        session,
        actor=actor,
        action="event.whatsapp_provider",
        subject_type="event",
        subject_id=event.id,
        before={"whatsapp_provider": before},
        after={"whatsapp_provider": provider.value},
    )
    return event
