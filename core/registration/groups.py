"""Group registration: a leader registers several runners in one chat and pays them together.

The group is a RegistrationGroup row (leader chat, combined amount); its members are ordinary
registrations (``group_id``), submitted one by one through intake.submit, so every rule (stock,
price tiers, vouchers, duplicates) applies per runner. A member sold out mid-group raises SoldOut
at its own submit, before the combined amount exists: the leader hears it before paying.
The combined amount with one unique code is picked by core.payments.group_payment (payments sit
above registration); each member's e-ticket goes to the leader's chat and, when the event allows
it, to the member's own WhatsApp (``member_ticket_copy``) and, for a Telegram group, through a
start link the leader forwards (core.registration.member_links).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.enums import AWAITING_STATUSES, Channel, RegistrationStatus, WhatsAppProvider, values
from core.errors import NotFound
from core.fulfilment import tickets
from core.messaging import outbox
from core.models import OutboundMessage, Registration, RegistrationGroup
from core.phones import digits
from core.registration import intake

MAX_MEMBERS = 50  # one chat, one transfer: bigger teams send a filled list per 50
# Answers a leader may reuse for the next runner with YA (typically the same emergency contact).
SHARED_FIELDS = ("emergency_name", "emergency_phone", "club")


def start(
    session: Session,
    *,
    event_id: int,
    channel: str,
    chat_id: str,
    leader_name: str = "",
    language: str = "id",
) -> RegistrationGroup:
    """Open a group for the leader's chat (members are added with ``add_member``)."""
    group = RegistrationGroup(event_id=event_id, channel=channel, chat_id=chat_id,
                              leader_name=leader_name[:200], language=language)  # fmt: skip
    session.add(group)
    session.flush()
    audit.record(session, actor=f"{channel}:-", action="group.started",
                 subject_type="registration_group", subject_id=group.id)  # fmt: skip
    return group


def get(session: Session, group_id: int) -> RegistrationGroup:
    group = session.get(RegistrationGroup, group_id)
    if group is None:
        raise NotFound("group", key="error.not_found")
    return group


def members(session: Session, group: RegistrationGroup | int) -> list[Registration]:
    """The group's registrations, in the order they were added."""
    group_id = group if isinstance(group, int) else group.id
    return list(
        session.scalars(
            select(Registration).where(Registration.group_id == group_id).order_by(Registration.id)
        )
    )


def awaiting(session: Session, group: RegistrationGroup) -> list[Registration]:
    """The members still waiting for the group's money (cancelled or sold-out ones drop out)."""
    return [r for r in members(session, group) if r.status in values(AWAITING_STATUSES)]


def add_member(
    session: Session, group: RegistrationGroup, submission: intake.Submission, *, now: datetime
) -> Registration:
    """Submit one runner of the group (in a savepoint: SoldOut or a duplicate undoes only it).

    The amount is left at the price: the group's combined amount is assigned once, at the end.
    """
    if len(members(session, group)) >= MAX_MEMBERS:
        raise intake.ServiceError("group full", key="group.full", limit=MAX_MEMBERS)
    with session.begin_nested():
        registration = intake.submit(session, submission=submission, now=now)
        registration.group_id = group.id
        session.flush()
    return registration


def shared_answers(answers: dict[str, Any]) -> dict[str, Any]:
    """The answers the next runner of the group may reuse (YA) instead of typing them again."""
    return {k: answers[k] for k in SHARED_FIELDS if answers.get(k)}


def for_registration(session: Session, registration: Registration) -> RegistrationGroup | None:
    if registration.group_id is None:
        return None
    return session.get(RegistrationGroup, registration.group_id)


def open_for_chat(session: Session, *, channel: str, chat_id: str) -> RegistrationGroup | None:
    """The chat's newest group with a member still awaiting payment, if any."""
    groups = session.scalars(
        select(RegistrationGroup)
        .where(RegistrationGroup.channel == channel, RegistrationGroup.chat_id == chat_id)
        .order_by(RegistrationGroup.id.desc())
    )
    return next((g for g in groups if awaiting(session, g)), None)


def member_ticket_copy(session: Session, registration: Registration) -> list[OutboundMessage]:
    """The member's own copy of the e-ticket, on WhatsApp to the phone they gave.

    Only when the event allows it, the member gave a phone, and that is not the leader's chat
    (the leader's copy is the normal ticket). Keyed per ticket version: written once.
    """
    group = for_registration(session, registration)
    if group is None or not registration.event.group_tickets_to_members:
        return []
    if registration.status != RegistrationStatus.PAID.value:
        return []
    phone = digits(registration.participant.phone or "")
    channel = _whatsapp_channel(registration)
    if not phone or (channel == registration.channel and phone == registration.chat_id):
        return []
    reply = tickets.ticket_reply(session, registration=registration, language=group.language)
    if reply is None:
        return []
    row = outbox.write(
        session, channel=channel, recipient=phone, reply=reply,
        idempotency_key=f"ticket-member:{registration.id}:{registration.ticket_version}",
        priority=outbox.PRIORITY_NOTIFICATION, registration_id=registration.id,
    )  # fmt: skip
    return [row]


def _whatsapp_channel(registration: Registration) -> str:
    """The leader's WhatsApp channel, else the event's WhatsApp number (a Telegram leader)."""
    if registration.channel in (Channel.WHATSAPP.value, Channel.WHATSAPP_CLOUD.value):
        return registration.channel
    cloud = registration.event.whatsapp_provider == WhatsAppProvider.CLOUD.value
    return Channel.WHATSAPP_CLOUD.value if cloud else Channel.WHATSAPP.value
