"""Retention: a set number of days after race day (90 unless the organiser says otherwise) the
event's payment photos, authorisation letters, NIK numbers and medical notes are removed.

Rows stay (registrations, amounts, BIBs, check-ins), so exports and counts keep working; only the
fields are blanked and the files removed. One audit row per event records the counts. Run daily by
workers.privacy on the ``low`` queue; running it twice, or on two workers at once, is harmless
(the event row is locked and ``purged_at`` is set once).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.errors import InvalidSetting, NotFound
from core.models import Event, EventPrivacy, Participant, Registration
from core.models.privacy import DEFAULT_RETENTION_DAYS
from core.privacy import erase

MAX_RETENTION_DAYS = 3650


@dataclass
class Purge:
    event_id: int
    photos: int = 0
    letters: int = 0
    participants: int = 0  # whose NIK or medical notes were removed
    paths: list[str] = field(default_factory=list)  # files to remove once committed

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in asdict(self).items() if k not in ("paths", "event_id")}


def settings_for(session: Session, event_id: int, *, lock: bool = False) -> EventPrivacy:
    """The event's privacy row, created with the defaults when it has none."""
    stmt = select(EventPrivacy).where(EventPrivacy.event_id == event_id)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        if session.get(Event, event_id) is None:
            raise NotFound(f"event {event_id}")
        row = EventPrivacy(event_id=event_id, retention_days=DEFAULT_RETENTION_DAYS,
                           notice="", notice_en="")  # fmt: skip
        session.add(row)
        session.flush()
    return row


def set_retention(session: Session, *, event_id: int, days: int, actor: str) -> EventPrivacy:
    if not 0 <= days <= MAX_RETENTION_DAYS:
        raise InvalidSetting(f"retention must be 0..{MAX_RETENTION_DAYS} days",
                             key="privacy.retention_range")  # fmt: skip
    row = settings_for(session, event_id, lock=True)
    if row.retention_days != days:
        audit.record(session, actor=actor, action="privacy.retention_changed", subject_type="event",
                     subject_id=event_id, before={"days": row.retention_days}, after={"days": days})  # fmt: skip
        row.retention_days = days
    return row


def purge_date(event: Event, privacy: EventPrivacy | None) -> date:
    days = privacy.retention_days if privacy is not None else DEFAULT_RETENTION_DAYS
    return event.race_date + timedelta(days=days)


def due_events(session: Session, *, today: date) -> list[int]:
    """Events whose retention ran out by ``today`` and that were not purged yet."""
    rows = session.execute(
        select(Event, EventPrivacy).outerjoin(EventPrivacy, EventPrivacy.event_id == Event.id)
    ).all()
    return [
        event.id
        for event, privacy in rows
        if (privacy is None or privacy.purged_at is None) and purge_date(event, privacy) <= today
    ]


def purge_event(session: Session, *, event_id: int, now: datetime) -> Purge | None:
    """Blank one event's sensitive data (None when another worker already did)."""
    privacy = settings_for(session, event_id, lock=True)
    if privacy.purged_at is not None:
        return None
    result = Purge(event_id)
    ids = list(session.scalars(select(Registration.id).where(Registration.event_id == event_id)))
    photos = erase.photos(session, ids)
    letters = erase.letters(session, ids)
    result.photos, result.letters, result.paths = len(photos), len(letters), photos + letters
    people = session.scalars(select(Participant).where(Participant.event_id == event_id))
    result.participants = sum(1 for p in people if erase.sensitive(p))
    privacy.purged_at = now
    audit.record(session, actor="system", action="privacy.retention_purged", subject_type="event",
                 subject_id=event_id, **result.counts())  # fmt: skip
    return result
