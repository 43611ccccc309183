"""Check-in desks: a device opened with the event PIN gets its own revocable token.

Only a SHA-256 of the token is stored. Wrong PINs are counted in login_attempts per device address
and per event, so a four-digit PIN cannot be brute-forced from one or from many addresses. Attempts
on one event are serialised by an advisory lock taken before counting, so parallel guesses cannot
all pass the count before any of them is recorded.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, records
from core.db import advisory_xact_lock, lock_key
from core.errors import InvalidSetting
from core.models import CheckinDesk, Event, LoginAttempt
from core.staff import throttle
from core.staff.accounts import hash_password, verify_password

WINDOW = timedelta(minutes=15)
MAX_PER_ADDRESS = 5
MAX_PER_EVENT = 30  # stops a guesser rotating addresses; staff typos stay well below it


class DeskOutcome(StrEnum):
    OPENED = "opened"
    WRONG_PIN = "wrong_pin"
    THROTTLED = "throttled"
    NO_PIN = "no_pin"


@dataclass(frozen=True, slots=True)
class DeskOpening:
    outcome: DeskOutcome
    desk: CheckinDesk | None = None
    token: str | None = None  # shown once, kept in the device's cookie


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _keys(event_id: int, address: str) -> tuple[str, str]:
    return f"pin:{event_id}:{address}"[:200], f"pin:{event_id}"


def _failures(session: Session, key: str, now: datetime) -> int:
    return throttle.count_failures(session, key=key, since=now - WINDOW)


def is_throttled(session: Session, *, event_id: int, address: str, now: datetime) -> bool:
    """True when this address or this event has had too many wrong PINs recently."""
    per_address, per_event = _keys(event_id, address)
    return (
        _failures(session, per_address, now) >= MAX_PER_ADDRESS
        or _failures(session, per_event, now) >= MAX_PER_EVENT
    )


def open_desk(
    session: Session, *, event_id: int, pin: str, name: str, address: str, now: datetime
) -> DeskOpening:
    """Check the event PIN and create a desk. Never raises on a wrong PIN: the attempt must commit."""
    event = session.get(Event, event_id)
    if event is None or not event.checkin_pin_hash:
        return DeskOpening(DeskOutcome.NO_PIN)
    if is_throttled(session, event_id=event_id, address=address, now=now):
        return DeskOpening(DeskOutcome.THROTTLED)  # cheap early answer, before hashing
    ok = verify_password(event.checkin_pin_hash, pin.strip())  # slow (argon2): outside the lock
    # Count again under a lock held until commit, so each guess sees every earlier one: parallel
    # guesses cannot all pass the count before any is recorded. Per event, so the event-wide
    # limit holds too; the lock covers only a count and an insert, never the hashing.
    advisory_xact_lock(session, lock_key("checkin-pin", event_id))
    if is_throttled(session, event_id=event_id, address=address, now=now):
        return DeskOpening(DeskOutcome.THROTTLED)
    for key in _keys(event_id, address):
        session.add(LoginAttempt(key=key, success=ok, created_at=now))
    if not ok:
        session.flush()
        return DeskOpening(DeskOutcome.WRONG_PIN)
    token = secrets.token_urlsafe(32)
    desk = CheckinDesk(
        event_id=event_id,
        name=name.strip()[:100] or "Desk",
        token_hash=_hash(token),
        created_at=now,
    )
    session.add(desk)
    session.flush()
    audit.record(
        session,
        actor=f"desk:{desk.id}",
        action="checkin_desk.opened",
        subject_type="checkin_desk",
        subject_id=desk.id,
        event_id=event_id,
        name=desk.name,
    )
    return DeskOpening(DeskOutcome.OPENED, desk, token)


def find_desk(session: Session, token: str | None) -> CheckinDesk | None:
    """Return the open (not revoked) desk for a device token."""
    if not token:
        return None
    return session.scalar(
        select(CheckinDesk).where(
            CheckinDesk.token_hash == _hash(token), CheckinDesk.revoked_at.is_(None)
        )
    )


def list_desks(session: Session, event_id: int) -> list[CheckinDesk]:
    return list(
        session.scalars(
            select(CheckinDesk).where(CheckinDesk.event_id == event_id).order_by(CheckinDesk.id)
        )
    )


def revoke_desk(session: Session, *, desk_id: int, actor: str, now: datetime) -> bool:
    """Revoke a desk's token; return False when it was already revoked or does not exist."""
    desk = session.scalar(select(CheckinDesk).where(CheckinDesk.id == desk_id).with_for_update())
    if desk is None or desk.revoked_at is not None:
        return False
    desk.revoked_at = now
    audit.record(
        session,
        actor=actor,
        action="checkin_desk.revoked",
        subject_type="checkin_desk",
        subject_id=desk.id,
        name=desk.name,
    )
    return True


def set_checkin_pin(session: Session, *, event_id: int, pin: str, actor: str) -> None:
    """Store the event's check-in PIN as an argon2 hash (never the PIN itself)."""
    if not (pin.isdecimal() and 6 <= len(pin) <= 12):
        raise InvalidSetting("the check-in PIN must be 6 to 12 digits")
    event = records.get(session, Event, event_id, lock=True)
    event.checkin_pin_hash = hash_password(pin)
    audit.record(
        session, actor=actor, action="settings.checkin_pin", subject_type="event",
        subject_id=event.id,
    )  # fmt: skip
