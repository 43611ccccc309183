"""Organiser actions on the waiting list: list, move up/down, skip, offer by hand, hold time.

Every action takes the category row lock first (the lock order of core.registration.stock), then
the entries, so it never races the automatic offers of a freed slot. Each is audited.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound, ServiceError
from core.models import Category, Event
from core.models.waitlist import HOLDING, WaitlistEntry, WaitlistStatus
from core.registration import stock, waitlist

MAX_HOLD_HOURS = 24 * 14


def listing(
    session: Session, *, event_id: int, category_id: int | None = None
) -> list[WaitlistEntry]:
    """Every entry of the event (or one category), in queue order, whatever its status."""
    query = select(WaitlistEntry).where(WaitlistEntry.event_id == event_id)
    if category_id is not None:
        query = query.where(WaitlistEntry.category_id == category_id)
    order = (WaitlistEntry.category_id, WaitlistEntry.position, WaitlistEntry.id)
    return list(session.scalars(query.order_by(*order)))


def _locked(session: Session, event_id: int, entry_id: int) -> tuple[WaitlistEntry, Category]:
    found = session.get(WaitlistEntry, entry_id)
    if found is None or found.event_id != event_id:
        raise NotFound(f"waitlist entry {entry_id}")
    category = stock.lock_categories(session, {found.category_id})[found.category_id]
    entry = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return entry, category


def move(session: Session, *, event_id: int, entry_id: int, up: bool, actor: str) -> bool:
    """Swap a waiting entry with the waiting one before (``up``) or after it; False at an end."""
    entry, _category = _locked(session, event_id, entry_id)
    if entry.status != WaitlistStatus.WAITING.value:
        return False
    column = WaitlistEntry.position
    neighbour = session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.category_id == entry.category_id,
            WaitlistEntry.status == WaitlistStatus.WAITING.value,
            column < entry.position if up else column > entry.position,
        )
        .order_by(column.desc() if up else column)
        .limit(1)
        .with_for_update()
    ).first()
    if neighbour is None:
        return False
    before = entry.position
    entry.position, neighbour.position = neighbour.position, entry.position
    _audit(session, entry, actor, "waitlist.moved", before={"position": before})
    return True


def skip(session: Session, *, event_id: int, entry_id: int, actor: str, now: datetime) -> bool:
    """Pass a runner over; a slot they held goes to the next runner waiting."""
    entry, category = _locked(session, event_id, entry_id)
    if entry.status not in (WaitlistStatus.WAITING.value, *HOLDING):
        return False
    held = entry.status in HOLDING
    before = entry.status
    jersey = waitlist.give_back_hold(session, entry, category) if held else None
    entry.status = WaitlistStatus.SKIPPED.value
    _audit(session, entry, actor, "waitlist.skipped", before={"status": before})
    if held:
        waitlist.offer_freed(session, category, jersey=jersey, now=now)
    return True


def offer(session: Session, *, event_id: int, entry_id: int, actor: str, now: datetime) -> None:
    """Offer a free slot to this runner now, out of turn (refused when the category is full)."""
    entry, category = _locked(session, event_id, entry_id)
    if entry.status != WaitlistStatus.WAITING.value:
        raise ServiceError("not waiting", key="This runner is not waiting")
    if category.slots_left <= 0:
        raise ServiceError("full", key="No free slot in this category")
    if entry.jersey_size:
        size = entry.jersey_size
        row = stock.lock_jerseys(session, event_id=event_id, sizes={size}).get(size)
        if row is None or row.left <= 0:
            raise ServiceError("no jersey", key="No jersey of this size left")
        row.taken += 1
        entry.held_jersey = size
    category.slots_taken += 1
    waitlist.offer_entry(session, entry, category, now, actor=actor)


def set_hold_hours(session: Session, *, event_id: int, hours: int, actor: str) -> None:
    """How long an offered slot is held for the runner (1 hour to 14 days)."""
    event = session.get(Event, event_id)
    if event is None:
        raise NotFound(f"event {event_id}")
    if not 1 <= hours <= MAX_HOLD_HOURS:
        raise ServiceError("hours", key="A hold lasts 1 to 336 hours")
    before = event.waitlist_hold_hours
    event.waitlist_hold_hours = hours
    audit.record(session, actor=actor, action="event.waitlist_hold_changed", subject_type="event",
                 subject_id=event_id, before={"hours": before}, after={"hours": hours})  # fmt: skip


def _audit(session: Session, entry: WaitlistEntry, actor: str, action: str, before: dict) -> None:
    audit.record(session, actor=actor, action=action, subject_type="waitlist_entry",
                 subject_id=entry.id, before=before,
                 after={"status": entry.status, "position": entry.position})  # fmt: skip
