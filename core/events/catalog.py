"""What a runner can register for: open events, categories with slots left, jersey stock.

The flow engine works on a frozen snapshot (EventCatalog) so it stays pure; the authoritative check is
registrations.submit, which re-reads the same numbers under row locks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from core.enums import ACTIVE_STATUSES, EventStatus, values
from core.events import pricing
from core.models import Category, Event, EventQuestion, JerseyStock, Voucher


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
    # With their sold counts as this snapshot saw them (on PostgreSQL only a capped tier's is
    # counted: an uncapped one never ends by count and reads 0).
    tiers: tuple[pricing.Tier, ...] = ()

    def quote(self, now: datetime) -> pricing.Quote:
        """The price the category sells at ``now`` (before any voucher)."""
        return pricing.current(self.price, self.tiers, now=now)


@dataclass(frozen=True)
class CatalogJersey:
    size: str
    left: int


@dataclass(frozen=True)
class CatalogQuestion:
    """An organiser-defined question as the chat asks it (core/events/questions.py)."""

    id: int
    kind: str
    label: str
    label_en: str
    options: tuple[tuple[str, str], ...]  # (Indonesian = stored value, English)
    required: bool
    category_codes: tuple[str, ...]
    example: str

    @property
    def key(self) -> str:
        return f"q{self.id}"


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
    has_vouchers: bool = False  # an active voucher exists: the flow offers the code step
    questions: tuple[CatalogQuestion, ...] = ()
    waiver_text: str = ""
    waiver_text_en: str = ""
    waiver_url: str = ""
    minor_age: int | None = None

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
    """Build the frozen catalog the flow engine reads (all sizes, sold-out ones included).

    On PostgreSQL the built catalog is kept per process and reused while the catalogue's version
    (core.models.CatalogVersion: triggers change it with any insert, update or delete of an
    event, category, jersey, tier, question or voucher row, counters aside) is the one it was
    built at, as this transaction sees it; the counters (slots taken per category, jerseys taken
    per size, active registrations per capped price tier) are read in the same round trip and
    patched in. So a reused catalog is never staler than a rebuilt one.
    """
    state = _state(session)
    if state is None or state.version[0] is None:  # SQLite, or no version row: built each time
        events = _build(session, None).events
    else:
        events = _current(session, state)
    return EventCatalog(
        open=tuple(e for e, window in events if window.is_open(now)),
        not_open=tuple(e for e, window in events if not window.is_open(now)),
    )


Events = tuple[tuple[CatalogEvent, "_Window"], ...]
_CACHE: dict[str, Any] = {}

_ACTIVE = ", ".join(f"'{status}'" for status in values(ACTIVE_STATUSES))
# The catalogue's version (kept by triggers, core.models.CatalogVersion), then the counters every
# registration moves, as JSON pairs [row id, count].
_STATE = text(
    "SELECT (SELECT version FROM catalog_version WHERE id = 1), "
    "(SELECT json_agg(json_build_array(t.id, t.slots_taken) ORDER BY t.id) FROM categories t), "
    "(SELECT json_agg(json_build_array(t.id, t.taken) ORDER BY t.id) FROM jersey_stock t), "
    # Sold only matters for a tier with a cap (Tier.ended, Tier.left): the others are not counted.
    "(SELECT json_agg(json_build_array(t.id, (SELECT count(*) FROM registrations r "
    f"WHERE r.price_tier_id = t.id AND r.status IN ({_ACTIVE}))) ORDER BY t.id) "
    "FROM price_tiers t WHERE t.max_sold IS NOT NULL)"
)
_STRUCTURE = 1  # the version; the rest are counters


@dataclass(frozen=True)
class _State:
    version: tuple[object, ...]
    counters: tuple[object, ...]


def _state(session: Session) -> _State | None:
    """The catalogue's version and the counters (None on SQLite: no caching there)."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    row = tuple(session.execute(_STATE).one())
    return _State(row[:_STRUCTURE], row[_STRUCTURE:])


def _current(session: Session, state: _State) -> Events:
    """The cached catalog (rebuilt on a structural change) with these counters."""
    built = _CACHE.get("built")
    if built is None or built.version != state.version:
        built = _build(session, state.version)
        _CACHE["built"] = built
    patched = _CACHE.get("patched")
    if patched is not None and patched[0] is built and patched[1] == state.counters:
        return cast(Events, patched[2])
    slots, jerseys, sold = (dict(pairs or ()) for pairs in cast(Any, state.counters))
    events = built.with_counters(slots, jerseys, sold)
    _CACHE["patched"] = (built, state.counters, events)
    return events


def invalidate() -> None:
    """Drop the cached catalogue (tests switching databases)."""
    _CACHE.clear()


@dataclass(frozen=True)
class _Built:
    """A built catalogue and what its counters are patched against."""

    version: tuple[object, ...] | None
    events: Events
    quotas: dict[int, int]  # category id -> quota
    stock: dict[int, tuple[tuple[int, int], ...]]  # event id -> (row id, stock) per jersey size

    def with_counters(
        self, slots: dict[int, int], jerseys: dict[int, int], sold: dict[int, int]
    ) -> Events:
        """The events with these counts (slots taken, jerseys taken, capped tiers' sold)."""
        return tuple(
            (self._patched(event, slots, jerseys, sold), window) for event, window in self.events
        )

    def _patched(
        self,
        event: CatalogEvent,
        slots: dict[int, int],
        jerseys: dict[int, int],
        sold: dict[int, int],
    ) -> CatalogEvent:
        categories = tuple(
            replace(
                c,
                slots_left=max(self.quotas[c.id] - slots.get(c.id, 0), 0),
                tiers=tuple(
                    replace(tier, sold=sold.get(tier.id, 0) if tier.max_sold is not None else 0)
                    for tier in c.tiers
                ),
            )
            for c in event.categories
        )
        jersey = tuple(
            replace(j, left=max(stock - jerseys.get(row_id, 0), 0))
            for j, (row_id, stock) in zip(event.jersey, self.stock[event.id], strict=True)
        )
        return replace(event, categories=categories, jersey=jersey)


def _build(session: Session, version: tuple[object, ...] | None) -> _Built:
    events, quotas, stock = [], {}, {}
    for e in _published(session):
        sizes = list(
            session.scalars(
                select(JerseyStock)
                .where(JerseyStock.event_id == e.id)
                .order_by(JerseyStock.sort_order, JerseyStock.id)
            )
        )
        events.append((_to_catalog(session, e, sizes), _Window.of(e)))
        quotas.update((c.id, c.quota) for c in e.categories)
        stock[e.id] = tuple((j.id, j.stock) for j in sizes)
    return _Built(version, tuple(events), quotas, stock)


@dataclass(frozen=True)
class _Window:
    """What is_open() reads of an event, kept with the cached catalogue."""

    status: str
    opens_at: datetime | None
    closes_at: datetime | None

    @classmethod
    def of(cls, event: Event) -> _Window:
        return cls(event.status, event.registration_opens_at, event.registration_closes_at)

    def is_open(self, now: datetime) -> bool:
        if self.status != EventStatus.OPEN.value:
            return False
        if self.opens_at and self.opens_at > now:
            return False
        return not (self.closes_at and self.closes_at <= now)


def _published(session: Session) -> list[Event]:
    stmt = (
        select(Event)
        .where(Event.status.in_([EventStatus.OPEN.value, EventStatus.CLOSED.value]))
        .options(selectinload(Event.categories))
        .order_by(Event.race_date, Event.id)
    )
    return list(session.scalars(stmt))


def _to_catalog(session: Session, event: Event, sizes: list[JerseyStock]) -> CatalogEvent:
    tiers = pricing.tiers_by_category(session, [c.id for c in event.categories])
    with_vouchers = session.scalar(
        select(Voucher.id).where(Voucher.event_id == event.id, Voucher.active.is_(True)).limit(1)
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
                tiers=tiers.get(c.id, ()),
            )
            for c in event.categories
        ),
        jersey=tuple(CatalogJersey(size=j.size, left=j.left) for j in sizes),
        has_vouchers=with_vouchers is not None,
        questions=_questions(session, event.id),
        waiver_text=event.waiver_text or "",
        waiver_text_en=event.waiver_text_en or "",
        waiver_url=event.waiver_url or "",
        minor_age=event.minor_age,
    )


def _questions(session: Session, event_id: int) -> tuple[CatalogQuestion, ...]:
    rows = session.scalars(
        select(EventQuestion)
        .where(EventQuestion.event_id == event_id)
        .order_by(EventQuestion.position, EventQuestion.id)
    )
    return tuple(question_of(q) for q in rows)


def question_of(q: EventQuestion) -> CatalogQuestion:
    """The chat's view of one organiser-defined question."""
    return CatalogQuestion(
        id=q.id,
        kind=q.kind,
        label=q.label,
        label_en=q.label_en or "",
        options=tuple((o["id"], o.get("en") or o["id"]) for o in q.options or []),
        required=q.required,
        category_codes=tuple(q.category_codes or ()),
        example=q.example or "",
    )
