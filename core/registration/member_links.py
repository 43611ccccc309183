"""A group member's own e-ticket on Telegram: a t.me start link the leader forwards to the member.

A Telegram bot cannot write first to someone who never started it, so for a group registered in
Telegram (and an event that sends members their copies) the leader gets, per paid member, a link
``https://t.me/<bot>?start=tiket-<id>-<mac>``. The member opens it, Telegram sends ``/start
tiket-...`` from the member's own chat, and ``claim`` answers there with the member's ticket.

The mac is an HMAC keyed by the registration's secret ticket token, so no table holds the links: a
new ticket (transfer, reissue) makes the old link dead by itself. The first chat that opens a link
keeps it (an audit row ``group.member_copy_claimed`` records that chat); another chat opening the
same link later is refused, so a forwarded-on link does not spread the QR further than the leader.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.config import get_settings
from core.enums import Channel, RegistrationStatus
from core.fulfilment import tickets
from core.messages import Reply
from core.models import AuditLog, Registration

PREFIX = "tiket-"
CLAIMED = "group.member_copy_claimed"
_TOKEN_RE = re.compile(r"^tiket-(\d{1,12})-([0-9a-f]{12})$")


def token(registration: Registration) -> str:
    """The start payload for the member's copy (valid while this ticket version is)."""
    return f"{PREFIX}{registration.id}-{_mac(registration)}"


def link(registration: Registration) -> str | None:
    """The member's t.me link, or None while the bot's username is not configured."""
    bot = (get_settings().telegram_bot_username or "").strip().lstrip("@")
    if not bot or not registration.ticket_token:
        return None
    return f"https://t.me/{bot}?start={quote(token(registration))}"


def is_claim(arg: str | None) -> bool:
    """Whether a /start payload is a member's ticket link (rather than an event or category)."""
    return (arg or "").strip().lower().startswith(PREFIX)


@dataclass(frozen=True, slots=True)
class Claim:
    """What opening a link gives: the member's ticket, or why not (``problem`` is a text key)."""

    registration: Registration | None
    problem: str | None = None


def claim(session: Session, *, payload: str, chat_id: str) -> Claim:
    """Check a link opened in ``chat_id``; the first chat to open it keeps it (audited)."""
    registration = _registration_for(session, payload.strip().lower())
    if registration is None:
        return Claim(None, "group.member_link_invalid")
    owner = _claimed_by(session, registration)
    if owner is not None and owner != chat_id:
        return Claim(None, "group.member_link_taken")
    if owner is None:
        audit.record(session, actor=f"telegram:{chat_id}", action=CLAIMED,
                     subject_type="registration", subject_id=registration.id,
                     chat=chat_id, ticket_version=registration.ticket_version)  # fmt: skip
    return Claim(registration)


def ticket_reply(session: Session, registration: Registration, language: str) -> Reply | None:
    """The member's own e-ticket (captioned as a copy)."""
    return tickets.ticket_reply(session, registration=registration, language=language, resend=True)


def _registration_for(session: Session, payload: str) -> Registration | None:
    match = _TOKEN_RE.match(payload)
    if match is None:
        return None
    registration = session.get(Registration, int(match[1]))
    if registration is None or registration.group_id is None or not registration.ticket_token:
        return None
    if registration.status != RegistrationStatus.PAID.value:
        return None
    if not hmac.compare_digest(_mac(registration), match[2]):
        return None  # a guessed id, or the link of an earlier ticket (transferred, reissued)
    return registration


def _claimed_by(session: Session, registration: Registration) -> str | None:
    """The chat that opened this ticket version's link first, if any."""
    rows = session.scalars(
        select(AuditLog.data)
        .where(
            AuditLog.action == CLAIMED,
            AuditLog.subject_type == "registration",
            AuditLog.subject_id == str(registration.id),
        )
        .order_by(AuditLog.id)
    ).all()
    for data in rows:
        if (data or {}).get("ticket_version") == registration.ticket_version:
            return str((data or {}).get("chat") or "")
    return None


def _mac(registration: Registration) -> str:
    key = (registration.ticket_token or "").encode()
    message = f"member-copy:{registration.id}:{registration.ticket_version}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:12]


def offered(registration: Registration) -> bool:
    """Whether the leader gets a link for this member: a Telegram group, the event allows copies."""
    return (
        registration.channel == Channel.TELEGRAM.value
        and bool(registration.event.group_tickets_to_members)
        and registration.status == RegistrationStatus.PAID.value
    )
