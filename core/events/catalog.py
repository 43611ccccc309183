"""What a runner can register for: open events, categories with slots left, jersey stock.

The flow engine works on a frozen snapshot (EventCatalog) so it stays pure; the authoritative check is
registrations.submit, which re-reads the same numbers under row locks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core.enums import EventStatus
from core.models import Category, Event, JerseyStock


@dataclass(frozen=True)
class CatalogCategory:
    id: int
    code: str
    name: str
    distance_km: float
    price: int
    slots_left: int
    min_age: int | None
    max_age: int | None


@dataclass(frozen=True)
class CatalogJersey:
    size: str
    left: int


@dataclass(frozen=True)
class CatalogEvent:
    id: int
    slug: str
    name: str
    race_date: date
    opens_at: datetime | None
    closes_at: datetime | None
    requires_nik: bool
    timezone: str
    categories: tuple[CatalogCategory, ...]
    jersey: tuple[CatalogJersey, ...]

    def category(self, code: str | None) -> CatalogCategory | None:
        """Return the category with ``code`` (case-insensitive)."""
        for category in self.categories:
            if code and category.code.lower() == str(code).lower():
                return category
        return None


@dataclass(frozen=True)
class EventCatalog:
    """Events open for registration now, plus those not open yet or already closed."""

    open: tuple[CatalogEvent, ...]
    not_open: tuple[CatalogEvent, ...] = ()

    def find(self, slug: str | None) -> CatalogEvent | None:
        """Return the open event ``slug``, or the only open event when ``slug`` is None."""
        if slug is None:
            return self.open[0] if len(self.open) == 1 else None
        return next((e for e in self.open if e.slug == slug), None)


def is_open(event: Event, now: datetime) -> bool:
    """Return whether ``event`` accepts registrations at ``now``."""
    if event.status != EventStatus.OPEN.value:
        return False
    if event.registration_opens_at and event.registration_opens_at > now:
        return False
    return not (event.registration_closes_at and event.registration_closes_at <= now)


def open_events(session: Session, *, now: datetime) -> list[Event]:
    """Return events accepting registrations at ``now``, by race date."""
    return [e for e in _published(session) if is_open(e, now)]


def categories_with_slots(session: Session, *, event_id: int) -> list[Category]:
    """Return the event's categories that still have slots."""
    rows = session.scalars(
        select(Category).where(Category.event_id == event_id).order_by(Category.sort_order)
    )
    return [c for c in rows if c.slots_left > 0]


def jersey_sizes(session: Session, *, event_id: int) -> list[JerseyStock]:
    """Return the event's jersey sizes that still have stock."""
    rows = session.scalars(
        select(JerseyStock)
        .where(JerseyStock.event_id == event_id)
        .order_by(JerseyStock.sort_order, JerseyStock.id)
    )
    return [j for j in rows if j.left > 0]


def snapshot(session: Session, *, now: datetime) -> EventCatalog:
    """Build the frozen catalog the flow engine reads (all sizes, sold-out ones included)."""
    events = _published(session)
    return EventCatalog(
        open=tuple(_to_catalog(session, e) for e in events if is_open(e, now)),
        not_open=tuple(_to_catalog(session, e) for e in events if not is_open(e, now)),
    )


def _published(session: Session) -> list[Event]:
    stmt = (
        select(Event)
        .where(Event.status.in_([EventStatus.OPEN.value, EventStatus.CLOSED.value]))
        .options(selectinload(Event.categories))
        .order_by(Event.race_date, Event.id)
    )
    return list(session.scalars(stmt))


def _to_catalog(session: Session, event: Event) -> CatalogEvent:
    sizes = session.scalars(
        select(JerseyStock)
        .where(JerseyStock.event_id == event.id)
        .order_by(JerseyStock.sort_order, JerseyStock.id)
    )
    return CatalogEvent(
        id=event.id,
        slug=event.slug,
        name=event.name,
        race_date=event.race_date,
        opens_at=event.registration_opens_at,
        closes_at=event.registration_closes_at,
        requires_nik=event.requires_nik,
        timezone=event.timezone,
        categories=tuple(
            CatalogCategory(
                id=c.id,
                code=c.code,
                name=c.name,
                distance_km=float(c.distance_km or 0),
                price=c.price,
                slots_left=c.slots_left,
                min_age=c.min_age,
                max_age=c.max_age,
            )
            for c in event.categories
        ),
        jersey=tuple(CatalogJersey(size=j.size, left=j.left) for j in sizes),
    )
