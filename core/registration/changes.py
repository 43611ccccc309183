"""Changes after registration, by the runner (before the event's cut-off) or the organiser.

Jersey size, transfer to another person and cancellation; the category change (it settles money) is core/payments/category_change.py.
Every change locks the registration first (then categories, then jersey rows: the lock order of
core/registration/stock.py) and is audited. The event's data freeze (BIBs at the printer) refuses
name, category and jersey changes; only the organiser may override it, and the override is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.enums import ACTIVE_STATUSES, Channel, RegistrationStatus
from core.errors import Conflict
from core.fulfilment import tickets
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import (
    CheckIn,
    Event,
    OutboundMessage,
    Participant,
    Registration,
    RevokedTicket,
)
from core.registration import manage, stock
from core.registration.intake import PARTICIPANT_FIELDS

TRANSFERRED = "transferred"
PAID = RegistrationStatus.PAID.value


@dataclass(frozen=True)
class Who:
    """Who asks: ``actor`` for the audit log; runners are held to the cut-off, staff may override."""

    actor: str
    by_runner: bool = False
    override: bool = False  # staff only: change data although the event is frozen


def self_service_open(event: Event, now: datetime) -> bool:
    """Whether runners may still change their own registrations."""
    return event.changes_until is not None and now < event.changes_until


def check(session: Session, reg: Registration, who: Who, now: datetime, *, data: bool) -> None:
    """Refuse a change the cut-off, the freeze or the registration's state does not allow."""
    if reg.status not in {s.value for s in ACTIVE_STATUSES}:
        raise Conflict("registration not active", key="changes.not_active")
    if who.by_runner and not self_service_open(reg.event, now):
        raise Conflict("self-service changes closed", key="changes.closed")
    if data and reg.event.data_frozen:
        if who.by_runner or not who.override:
            raise Conflict(
                "participant data is frozen; an admin may override", key="changes.frozen"
            )
        audit.record(
            session,
            actor=who.actor,
            action="registration.freeze_overridden",
            subject_type="registration",
            subject_id=reg.id,
        )


FROZEN_FIELDS = ("full_name", "jersey_size")  # with the category: what the BIB print file carries


def guard_freeze(session: Session, *, registration_id: int, changes: dict[str, Any]) -> None:
    """For the organiser's plain edit and move forms: refuse a frozen field's change outright (the
    changes section, with its audited override, is the way past a freeze)."""
    reg = stock.lock_registration(session, registration_id)
    if not reg.event.data_frozen:
        return
    person = reg.participant
    touched = [
        k
        for k in FROZEN_FIELDS
        if k in changes and str(changes[k] or "").strip() != str(getattr(person, k) or "")
    ]
    if touched or "category_id" in changes and changes["category_id"] != reg.category_id:
        raise Conflict(
            "participant data is frozen; use Changes after registration with the override",
            key="changes.frozen",
        )


def change_jersey(
    session: Session, *, registration_id: int, size: str, who: Who, now: datetime
) -> dict[str, tuple[Any, Any]]:
    """Change the jersey size within stock (SoldOut when the new size has none left)."""
    reg = stock.lock_registration(session, registration_id)
    check(session, reg, who, now, data=True)
    return manage.edit_participant(
        session, registration_id=reg.id, changes={"jersey_size": size}, actor=who.actor
    )


def transfer(
    session: Session, *, registration_id: int, person: dict[str, Any], who: Who, now: datetime
) -> Registration:
    """Give the registration to another person: new participant, new ticket, the old QR revoked.

    Raises Conflict when the race pack was already collected: the check-in and the transfer lock
    the same registration row, so exactly one of them wins and the other sees its outcome.
    """
    reg = stock.lock_registration(session, registration_id)
    check(session, reg, who, now, data=True)
    if session.scalar(select(CheckIn.id).where(CheckIn.registration_id == reg.id)) is not None:
        raise Conflict("race pack already collected", key="changes.collected")
    old = reg.participant
    fields = {k: v for k, v in person.items() if k in PARTICIPANT_FIELDS and v not in (None, "")}
    size = fields.get("jersey_size") or old.jersey_size
    if size != old.jersey_size:
        stock.move_jersey(
            session, event_id=reg.event_id, old=old.jersey_size, new=size, key="changes.jersey_out"
        )
    new = Participant(event_id=reg.event_id, answers={}, **{**fields, "jersey_size": size})
    session.add(new)
    session.flush()
    reg.participant_id, reg.participant = new.id, new
    if reg.ticket_token:
        session.add(
            RevokedTicket(
                registration_id=reg.id, token=reg.ticket_token, reason=TRANSFERRED, revoked_at=now
            )
        )
        tickets.reissue(session, registration=reg, actor=who.actor)
    session.flush()
    audit.record(
        session,
        actor=who.actor,
        action="registration.transferred",
        subject_type="registration",
        subject_id=reg.id,
        before={"participant_id": old.id, "full_name": old.full_name},
        after={"participant_id": new.id, "full_name": new.full_name},
    )
    return reg


def cancel(
    session: Session, *, registration_id: int, who: Who, now: datetime, reason: str = ""
) -> Registration:
    """Cancel (runner: before the cut-off, after confirming the event's refund rule)."""
    reg = stock.lock_registration(session, registration_id)
    check(session, reg, who, now, data=False)
    if session.scalar(select(CheckIn.id).where(CheckIn.registration_id == reg.id)) is not None:
        raise Conflict("race pack already collected", key="changes.collected")
    return manage.cancel(
        session, registration_id=reg.id, actor=who.actor, reason=reason or "runner", now=now
    )


def revoked(session: Session, token: str) -> RevokedTicket | None:
    """The revocation of an old ticket token, if it was one."""
    return session.scalar(select(RevokedTicket).where(RevokedTicket.token == token))


WHATSAPP = (Channel.WHATSAPP.value, Channel.WHATSAPP_CLOUD.value)


def tell_holders(session: Session, reg: Registration, *, tell_old: bool) -> list[OutboundMessage]:
    """After a transfer: the old holder is told (unless they asked in this chat), the new one too.

    On WhatsApp the registration moves to the new holder's number, which gets the news and the new
    ticket; on Telegram there is no number to write to, so the old chat gets the ticket to pass on.
    The new holder's email (when given) gets the ticket either way.
    """
    key = f"transfer:{reg.id}:{reg.ticket_version}"
    rows: list[OutboundMessage] = []
    if tell_old:
        done = t(
            "changes.transfer_done", reg.language, number=reg.number, name=reg.participant.full_name
        )
        rows.append(_write(session, reg, reg.chat_id, done, f"{key}:old"))
    new_phone = reg.participant.phone
    if reg.channel in WHATSAPP and new_phone:
        reg.chat_id, reg.conversation_id = new_phone.lstrip("+"), None
        session.flush()
        hello = t(
            "changes.transfer_new_holder",
            reg.language,
            name=reg.participant.full_name,
            number=reg.number,
            event=reg.event.name,
            category=reg.category.name,
        )
        rows.append(_write(session, reg, reg.chat_id, hello, f"{key}:new"))
    rows += tickets.queue_ticket(session, registration=reg)
    email = tickets.write_ticket_email(session, registration=reg)
    rows += [email] if email is not None else []
    outbox.remember(session, rows)  # the chat worker delivers them with its replies
    return rows


def _write(
    session: Session, reg: Registration, recipient: str, text: str, key: str
) -> OutboundMessage:
    return outbox.write(
        session,
        channel=reg.channel,
        recipient=recipient,
        reply=Reply(text),
        idempotency_key=key,
        priority=outbox.PRIORITY_NOTIFICATION,
        registration_id=reg.id,
    )


POLICY_FIELDS = ("changes_until", "data_frozen", "refund_rule", "refund_rule_en")


def save_policy(session: Session, *, event_id: int, data: dict[str, Any], actor: str) -> Event:
    """Set the event's self-service cut-off, data freeze and refund rule texts (audited)."""
    event = session.scalars(
        select(Event).where(Event.id == event_id).with_for_update()
    ).one_or_none()
    if event is None:
        raise Conflict(f"event {event_id}", key="error.not_found")
    before = {k: getattr(event, k) for k in POLICY_FIELDS}
    for name in POLICY_FIELDS:
        if name in data:
            setattr(event, name, data[name])
    after = {k: getattr(event, k) for k in POLICY_FIELDS}
    session.flush()
    diff = [k for k in POLICY_FIELDS if before[k] != after[k]]
    if diff:
        audit.record(
            session,
            actor=actor,
            action="event.changes_policy",
            subject_type="event",
            subject_id=event.id,
            before={k: _plain(before[k]) for k in diff},
            after={k: _plain(after[k]) for k in diff},
        )
    return event


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
