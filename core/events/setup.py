"""Events, categories and the organiser's settings: every change validated and audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.enums import EventStatus, Role, UniqueCodeMode
from core.errors import Conflict, NotFound, ServiceError
from core.messaging import texts
from core.models import (
    AdminUser,
    Category,
    Event,
    JerseyStock,
    NotificationTemplate,
    PaymentAccount,
)
from core.staff import accounts

EVENT_FIELDS = (
    "slug", "name", "race_date", "race_start_time", "venue", "timezone",
    "registration_opens_at", "registration_closes_at", "requires_nik",
    "requires_authorisation_letter", "pickup_info",
)  # fmt: skip
CATEGORY_FIELDS = (
    "code", "name", "distance_km", "price", "quota", "min_age", "max_age",
    "bib_start", "bib_end", "bib_prefix", "reg_prefix", "sort_order",
)  # fmt: skip
PAYMENT_FIELDS = (
    "unique_code_mode", "payment_deadline_hours", "payment_grace_hours",
    "reminder_hours_before", "reject_grace_hours", "verification_hours",
)  # fmt: skip
SUBJECTS = {
    "events": "event",
    "categories": "category",
    "payment_accounts": "payment_account",
    "admin_users": "admin_user",
}
ACCOUNT_FIELDS = ("kind", "bank_name", "account_number", "holder_name", "active", "sort_order")


class InvalidSetting(ServiceError):
    """A value the organiser entered breaks a rule; the message says which."""

    key = "admin.invalid_setting"


def _get(session: Session, model: Any, ident: int, *, lock: bool = False) -> Any:
    stmt = select(model).where(model.id == ident)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound(f"{model.__tablename__} {ident}")
    return row


def _apply(row: Any, data: dict[str, Any], fields: tuple[str, ...]) -> tuple[dict, dict]:
    """Set the allowed fields that changed; return (before, after) of those fields."""
    before, after = {}, {}
    for name in fields:
        if name in data and getattr(row, name) != data[name]:
            before[name], after[name] = getattr(row, name), data[name]
            setattr(row, name, data[name])
    return before, after


def _audit(session: Session, actor: str, action: str, row: Any, before: dict, after: dict) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type=SUBJECTS.get(row.__tablename__, row.__tablename__),
        subject_id=row.id,
        before=before,
        after=after,
    )


def save_event(
    session: Session, *, event_id: int | None, data: dict[str, Any], actor: str
) -> Event:
    """Create (event_id None) or update an event's details."""
    _validate_event(data)
    if event_id is None:
        event = Event(status=EventStatus.DRAFT.value)
    else:
        event = _get(session, Event, event_id, lock=True)
    slug = data.get("slug", event.slug)
    clash = session.scalar(select(Event.id).where(Event.slug == slug))
    if clash is not None and clash != event.id:
        raise InvalidSetting(f"the slug {slug!r} is already used by another event")
    before, after = _apply(event, data, EVENT_FIELDS)
    session.add(event)
    session.flush()
    _audit(
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
    if "slug" in data and not str(data["slug"]).strip():
        raise InvalidSetting("the event needs a slug (used in links and commands)")


def set_status(session: Session, *, event_id: int, status: EventStatus, actor: str) -> Event:
    """Open, close or return an event to draft."""
    event = _get(session, Event, event_id, lock=True)
    if status == EventStatus.OPEN and not event.categories:
        raise InvalidSetting("add at least one category before opening registration")
    before, after = _apply(event, {"status": status.value}, ("status",))
    if after:
        _audit(session, actor, f"event.{status.value}", event, before, after)
    return event


def save_category(
    session: Session, *, event_id: int, category_id: int | None, data: dict[str, Any], actor: str
) -> Category:
    """Create or update a category after checking quota, ages, prices and the BIB range."""
    if category_id is None:
        category = Category(event_id=_get(session, Event, event_id).id, slots_taken=0)
    else:
        category = _get(session, Category, category_id, lock=True)
    merged = {name: data.get(name, getattr(category, name, None)) for name in CATEGORY_FIELDS}
    _validate_category(session, category, merged)
    before, after = _apply(category, data, CATEGORY_FIELDS)
    session.add(category)  # only now: the checks above must not autoflush a half-filled row
    session.flush()
    action = "category.created" if category_id is None else "category.updated"
    _audit(session, actor, action, category, before, after)
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
    event = _get(session, Event, event_id, lock=True)
    before, after = _apply(event, data, PAYMENT_FIELDS)
    if after:
        _audit(session, actor, "settings.payment", event, before, after)
    return event


def save_account(
    session: Session, *, account_id: int | None, event_id: int | None, data: dict, actor: str
) -> PaymentAccount:
    """Create or update a bank / e-wallet / QRIS account runners may pay into."""
    if not (data.get("bank_name") or "").strip():
        raise InvalidSetting("the account needs a bank or wallet name")
    if account_id is None:
        account = PaymentAccount(event_id=event_id, bank_name=data["bank_name"])
        session.add(account)
    else:
        account = _get(session, PaymentAccount, account_id, lock=True)
    if event_id is not None:
        _get(session, Event, event_id)  # NotFound rather than a foreign-key error
    data = {**data, "event_id": event_id}  # None: the account serves every event
    before, after = _apply(account, data, (*ACCOUNT_FIELDS, "event_id"))
    session.flush()
    action = "settings.account_created" if account_id is None else "settings.account_updated"
    _audit(session, actor, action, account, before, after)
    return account


def set_qris_image(session: Session, *, account_id: int, path: str | None, actor: str) -> None:
    """Point an account at its stored QRIS image (path relative to MEDIA_DIR)."""
    account = _get(session, PaymentAccount, account_id, lock=True)
    before, after = _apply(account, {"qris_image_path": path}, ("qris_image_path",))
    _audit(session, actor, "settings.qris", account, before, after)


def set_template(session: Session, *, key: str, language: str, body: str, actor: str) -> None:
    """Override a catalogue text for one language; an empty body restores the default.

    Raises templates.InvalidTemplate when the text would not render (checked before any change).
    """
    if body.strip():
        texts.validate(key, body)
    row = session.scalar(
        select(NotificationTemplate)
        .where(NotificationTemplate.key == key, NotificationTemplate.language == language)
        .with_for_update()
    )
    before = {"body": row.body if row else None}
    if not body.strip():
        if row is not None:
            session.delete(row)
    elif row is None:
        session.add(NotificationTemplate(key=key, language=language, body=body))
    else:
        row.body = body
    session.flush()
    audit.record(
        session, actor=actor, action="settings.template", subject_type="template",
        subject_id=f"{language}:{key}", before=before, after={"body": body or None},
    )  # fmt: skip


def set_checkin_pin(session: Session, *, event_id: int, pin: str, actor: str) -> None:
    """Store the event's check-in PIN as an argon2 hash (never the PIN itself)."""
    if not (pin.isdigit() and 6 <= len(pin) <= 12):
        raise InvalidSetting("the check-in PIN must be 6 to 12 digits")
    event = _get(session, Event, event_id, lock=True)
    event.checkin_pin_hash = accounts.hash_password(pin)
    audit.record(
        session, actor=actor, action="settings.checkin_pin", subject_type="event",
        subject_id=event.id,
    )  # fmt: skip


def update_staff(
    session: Session, *, user_id: int, role: Role, active: bool, actor: str
) -> AdminUser:
    """Change a staff member's role or deactivate them; the last active admin stays an admin."""
    user = _get(session, AdminUser, user_id, lock=True)
    demoting = user.role == Role.ADMIN.value and (role != Role.ADMIN or not active)
    if demoting and _active_admins(session) <= 1:
        raise Conflict("keep at least one active admin", key="admin.last_admin")
    before, after = _apply(user, {"role": role.value, "active": active}, ("role", "active"))
    if after:
        _audit(session, actor, "staff.updated", user, before, after)
    return user


def _active_admins(session: Session) -> int:
    stmt = select(func.count()).where(AdminUser.role == Role.ADMIN.value, AdminUser.active)
    return int(session.scalar(stmt) or 0)
