"""Build the engine's Ctx for one conversation from the database (read-only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.events import catalog
from core.messages import InboundMessage
from core.models import Conversation, Participant, Registration
from core.registration import intake, vouchers
from flows.spec import Ctx


def build(
    session: Session,
    conversation: Conversation,
    *,
    now: datetime,
    message: InboundMessage | None = None,
    answers: dict[str, Any] | None = None,
) -> Ctx:
    """Return a Ctx holding a catalogue snapshot and lookups bound to ``session``."""
    snapshot = catalog.snapshot(session, now=now)
    draft = dict(conversation.answers or {}) if answers is None else answers
    ctx = Ctx(
        language=conversation.language or "id",
        catalog=snapshot,
        answers=draft,
        today=now.astimezone(ZoneInfo(get_settings().timezone)).date(),
        now=now,
        known_phone=(message.phone if message else None) or conversation.phone,
        shared_phone=_shared_phone(message),
        emergency_lookup=lambda: previous_emergency(session, conversation),
        channel=str(conversation.channel or ""),
    )

    def taken(field: str, value: str) -> bool:
        event = ctx.event
        if event is None:
            return False
        return intake.find_duplicate(session, event_id=event.id, field=field, value=value)

    def voucher(code: str, category: str | None, price: int) -> vouchers.Applied:
        event = ctx.event
        if event is None:
            raise vouchers.VoucherRefused(key="pricing.refused.unknown", code=code)
        return vouchers.preview(
            session, event_id=event.id, code=code, category=category, price=price, now=now
        )

    ctx.taken = taken
    ctx.voucher = voucher
    return ctx


def _shared_phone(message: InboundMessage | None) -> str | None:
    """A phone that came with this message as a shared contact (no text typed)."""
    if message is None or message.text:
        return None
    return message.phone


def previous_emergency(session: Session, conversation: Conversation) -> tuple[str, str] | None:
    """The emergency contact of this chat's latest registration, offered for reuse."""
    row = session.execute(
        select(Participant.emergency_name, Participant.emergency_phone)
        .join(Registration, Registration.participant_id == Participant.id)
        .where(
            Registration.channel == conversation.channel,
            Registration.chat_id == conversation.chat_id,
            Participant.emergency_name.is_not(None),
            Participant.emergency_phone.is_not(None),
        )
        .order_by(Registration.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None
