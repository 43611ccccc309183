"""Events, categories, jersey stock and payment settings: every change validated and audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, records
from core.enums import EventStatus, UniqueCodeMode
from core.errors import InvalidSetting, NotFound
from core.models import Category, Event, JerseyStock

EVENT_FIELDS = (
    "slug", "name", "race_date", "race_start_time", "venue", "timezone",
    "registration_opens_at", "registration_closes_at", "requires_nik",
    "requires_authorisation_letter", "pickup_info", "venue_en", "pickup_info_en",
    "waiver_text", "waiver_text_en", "waiver_url", "minor_age", "group_tickets_to_members",
)  # fmt: skip
CATEGORY_FIELDS = (
    "code", "name", "distance_km", "price", "quota", "min_age", "max_age",
    "bib_start", "bib_end", "bib_prefix", "reg_prefix", "sort_order",
)  # fmt: skip
PAYMENT_FIELDS = (
    "unique_code_mode", "payment_deadline_hours", "payment_grace_hours",
    "reminder_hours_before", "reject_grace_hours", "verification_hours",
)  # fmt: skip


def save_event(
    session: Session, *, event_id: int | None, data: dict[str, Any], actor: str
) -> Event:
    """Create (event_id None) or update an event's details."""
    _validate_event(data)
    if event_id is None:
        event = Event(status=EventStatus.DRAFT.value)
    else:
        event = records.get(session, Event, event_id, lock=True)
    slug = data.get("slug", event.slug)
    clash = session.scalar(select(Event.id).where(Event.slug == slug))
    if clash is not None and clash != event.id:
        raise InvalidSetting(f"the slug {slug!r} is already used by another event")
    before, after = records.apply(event, data, EVENT_FIELDS)
    session.add(event)
    session.flush()
    records.audit_change(
        session,
        actor,
        "event.created" if event_id is None else "event.updated",
        event,
        before,
        after,
    )
    return event


def _validate_event(data: dict[str, Any]) -> None:
    opens, closes = data.get("registration_opens_at"), data.get("registration_closes_at")
    if opens and closes and closes <= opens:
        raise InvalidSetting("registration must close after it opens")
    url = data.get("waiver_url") or ""
    if url and not url.startswith(("https://", "http://")):
        raise InvalidSetting("the terms link must start with https://")
    minor_age = data.get("minor_age")
    if minor_age is not None and not 1 <= minor_age <= 30:
        raise InvalidSetting("the minor age must be between 1 and 30")
    if "slug" in data and not str(data["slug"]).strip():
        raise InvalidSetting("the event needs a slug (used in links and commands)")


def set_status(session: Session, *, event_id: int, status: EventStatus, actor: str) -> Event:
    """Open, close or return an event to draft."""
    event = records.get(session, Event, event_id, lock=True)
    if status == EventStatus.OPEN and not event.categories:
        raise InvalidSetting("add at least one category before opening registration")
    before, after = records.apply(event, {"status": status.value}, ("status",))
    if after:
        records.audit_change(session, actor, f"event.{status.value}", event, before, after)
    return event


def save_category(
    session: Session, *, event_id: int, category_id: int | None, data: dict[str, Any], actor: str
) -> Category:
    """Create or update a category after checking quota, ages, prices and the BIB range.

    Raises:
        NotFound: no such event, or the category belongs to another event.
    """
    if category_id is None:
        category = Category(event_id=records.get(session, Event, event_id).id, slots_taken=0)
    else:
        category = records.get(session, Category, category_id, lock=True)
        if category.event_id != event_id:  # the id comes from a URL: never edit another event's
            raise NotFound(f"category {category_id} of event {event_id}")
    merged = {name: data.get(name, getattr(category, name, None)) for name in CATEGORY_FIELDS}
    _validate_category(session, category, merged)
    before, after = records.apply(category, data, CATEGORY_FIELDS)
    session.add(category)  # only now: the checks above must not autoflush a half-filled row
    session.flush()
    action = "category.created" if category_id is None else "category.updated"
    records.audit_change(session, actor, action, category, before, after)
    return category


def _validate_category(session: Session, category: Category, d: dict[str, Any]) -> None:
    if not d["code"] or not d["name"] or not d["reg_prefix"]:
        raise InvalidSetting("code, name and registration-number prefix are required")
    if (d["price"] or 0) < 0 or (d["quota"] or 0) < 0:
        raise InvalidSetting("price and quota cannot be negative")
    if (d["quota"] or 0) < (category.slots_taken or 0):
        raise InvalidSetting(f"quota below the {category.slots_taken} slots already taken")
    if d["min_age"] is not None and d["max_age"] is not None and d["min_age"] > d["max_age"]:
        raise InvalidSetting("minimum age is above maximum age")
    if d["bib_start"] is None or d["bib_end"] is None or d["bib_start"] > d["bib_end"]:
        raise InvalidSetting("the BIB range must start at or below its end")
    others = session.scalars(
        select(Category).where(
            Category.event_id == category.event_id, Category.id != (category.id or 0)
        )
    )
    for other in others:
        if other.code == d["code"]:
            raise InvalidSetting(f"code {d['code']} is already used in this event")
        same_prefix = (other.bib_prefix or "") == (d["bib_prefix"] or "")
        if same_prefix and other.bib_start <= d["bib_end"] and d["bib_start"] <= other.bib_end:
            raise InvalidSetting(f"BIB range overlaps category {other.code}")


def set_jersey_stock(
    session: Session, *, event_id: int, stock: dict[str, int], actor: str
) -> list[JerseyStock]:
    """Set stock per size (new sizes added); stock never drops below what is taken."""
    rows = {
        r.size: r
        for r in session.scalars(
            select(JerseyStock).where(JerseyStock.event_id == event_id).with_for_update()
        )
    }
    before = {size: r.stock for size, r in rows.items()}
    for order, (size, amount) in enumerate(stock.items()):
        row = rows.get(size)
        if row is None:
            row = rows[size] = JerseyStock(event_id=event_id, size=size, taken=0, sort_order=order)
            session.add(row)
        if amount < (row.taken or 0):
            raise InvalidSetting(f"size {size}: stock below the {row.taken} already taken")
        row.stock = amount
    session.flush()
    after = {size: r.stock for size, r in rows.items()}
    audit.record(
        session, actor=actor, action="event.jersey_stock", subject_type="event",
        subject_id=event_id, before=before, after=after,
    )  # fmt: skip
    return list(rows.values())


def update_payment_settings(
    session: Session, *, event_id: int, data: dict[str, Any], actor: str
) -> Event:
    """Change the unique-code mode and the payment deadline, grace and reminder hours."""
    if "unique_code_mode" in data:
        UniqueCodeMode(data["unique_code_mode"])  # raises ValueError on anything else
    for name in PAYMENT_FIELDS[1:]:
        if name in data and not 0 <= int(data[name]) <= 24 * 30:
            raise InvalidSetting(f"{name.replace('_', ' ')} must be between 0 and 720 hours")
    event = records.get(session, Event, event_id, lock=True)
    before, after = records.apply(event, data, PAYMENT_FIELDS)
    if after:
        records.audit_change(session, actor, "settings.payment", event, before, after)
    return event
