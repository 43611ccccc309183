"""Dashboard numbers, the registration funnel, and export rows as generators (never whole lists).

Grouping by day happens in Python on single columns: portable between PostgreSQL and SQLite, and cheap
at event sizes (tens of thousands of rows).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from core.enums import (
    ACTIVE_STATUSES,
    OWING_IN_FULL_STATUSES,
    OutboundStatus,
    PaymentStatus,
    RegistrationStatus,
    values,
)
from core.models import (
    AdminUser,
    Category,
    CheckIn,
    Conversation,
    Event,
    OutboundMessage,
    Participant,
    Payment,
    Registration,
)
from core.registration.search import Filters, filtered


@dataclass
class CategoryRow:
    id: int
    code: str
    name: str
    quota: int
    taken: int
    left: int
    paid: int = 0
    checked_in: int = 0
    jersey: dict[str, int] = field(default_factory=dict)


@dataclass
class Dashboard:
    by_status: dict[str, int]
    revenue_verified: int
    outstanding: int
    categories: list[CategoryRow]
    per_day: list[tuple[date, int]]
    avg_verification_seconds: float | None
    outbound_failed: dict[str, int]
    checked_in: int


def _where_event(stmt: Any, column: Any, event_id: int | None) -> Any:
    return stmt.where(column == event_id) if event_id else stmt


def dashboard(session: Session, *, event_id: int | None, tz: str = "Asia/Jakarta") -> Dashboard:
    """Collect every number the dashboard shows, optionally for one event."""
    by_status = dict(
        session.execute(
            _where_event(
                select(Registration.status, func.count()).group_by(Registration.status),
                Registration.event_id,
                event_id,
            )
        ).all()
    )
    categories = category_rows(session, event_id=event_id)
    return Dashboard(
        by_status={k: int(v) for k, v in by_status.items()},
        revenue_verified=_revenue(session, event_id),
        outstanding=_outstanding(session, event_id),
        categories=categories,
        per_day=registrations_per_day(session, event_id=event_id, tz=tz),
        avg_verification_seconds=average_verification_seconds(session, event_id=event_id),
        outbound_failed=outbound_failures(session),
        checked_in=sum(c.checked_in for c in categories),
    )


def _revenue(session: Session, event_id: int | None) -> int:
    received = func.coalesce(Registration.amount_received, Registration.amount_due)
    stmt = select(func.coalesce(func.sum(received), 0)).where(
        Registration.status == RegistrationStatus.PAID.value
    )
    partial = select(func.coalesce(func.sum(Registration.amount_received), 0)).where(
        Registration.status == RegistrationStatus.PARTIALLY_PAID.value
    )
    return int(
        (session.scalar(_where_event(stmt, Registration.event_id, event_id)) or 0)
        + (session.scalar(_where_event(partial, Registration.event_id, event_id)) or 0)
    )


def _outstanding(session: Session, event_id: int | None) -> int:
    owing = select(func.coalesce(func.sum(Registration.amount_due), 0)).where(
        Registration.status.in_(values(OWING_IN_FULL_STATUSES))
    )
    rest = Registration.amount_due - func.coalesce(Registration.amount_received, 0)
    partial = select(func.coalesce(func.sum(rest), 0)).where(
        Registration.status == RegistrationStatus.PARTIALLY_PAID.value
    )
    return int(
        (session.scalar(_where_event(owing, Registration.event_id, event_id)) or 0)
        + (session.scalar(_where_event(partial, Registration.event_id, event_id)) or 0)
    )


def category_rows(session: Session, *, event_id: int | None) -> list[CategoryRow]:
    """Quota, slots, paid, checked in and jersey sizes per category."""
    cats = session.scalars(
        _where_event(select(Category), Category.event_id, event_id).order_by(
            Category.event_id, Category.sort_order, Category.id
        )
    ).all()
    rows = {
        c.id: CategoryRow(c.id, c.code, c.name, c.quota, c.slots_taken, c.slots_left) for c in cats
    }
    paid = select(Registration.category_id, func.count()).where(
        Registration.status == RegistrationStatus.PAID.value
    )
    for cat_id, n in session.execute(paid.group_by(Registration.category_id)):
        if cat_id in rows:
            rows[cat_id].paid = int(n)
    checkins = select(Registration.category_id, func.count()).join(
        CheckIn, CheckIn.registration_id == Registration.id
    )
    for cat_id, n in session.execute(checkins.group_by(Registration.category_id)):
        if cat_id in rows:
            rows[cat_id].checked_in = int(n)
    sizes = (
        select(Registration.category_id, Participant.jersey_size, func.count())
        .join(Participant, Participant.id == Registration.participant_id)
        .where(Registration.status.in_(values(ACTIVE_STATUSES)))
        .group_by(Registration.category_id, Participant.jersey_size)
    )
    for cat_id, size, n in session.execute(sizes):
        if cat_id in rows:
            rows[cat_id].jersey[size or "-"] = int(n)
    return list(rows.values())


def _local_day(value: datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date()


def registrations_per_day(
    session: Session, *, event_id: int | None, tz: str = "Asia/Jakarta"
) -> list[tuple[date, int]]:
    """Registrations created per local day, oldest first."""
    zone = ZoneInfo(tz)
    stmt = _where_event(select(Registration.created_at), Registration.event_id, event_id)
    counts = Counter(_local_day(ts, zone) for ts in session.scalars(stmt))
    return sorted(counts.items())


def average_verification_seconds(session: Session, *, event_id: int | None) -> float | None:
    """Mean time from a photo's arrival to its approval or rejection."""
    stmt = select(Payment.submitted_at, Payment.verified_at).where(Payment.verified_at.is_not(None))
    if event_id:
        stmt = stmt.join(Registration).where(Registration.event_id == event_id)
    spans = [(done - sent).total_seconds() for sent, done in session.execute(stmt)]
    return sum(spans) / len(spans) if spans else None


def outbound_failures(session: Session) -> dict[str, int]:
    """Failed outbound messages per channel."""
    stmt = (
        select(OutboundMessage.channel, func.count())
        .where(OutboundMessage.status == OutboundStatus.FAILED.value)
        .group_by(OutboundMessage.channel)
    )
    return {channel: int(n) for channel, n in session.execute(stmt)}


@dataclass
class FunnelRow:
    day: date
    channel: str
    started: int = 0
    confirmed: int = 0
    photos: int = 0
    paid: int = 0


def funnel(session: Session, *, event_id: int | None, tz: str = "Asia/Jakarta") -> list[FunnelRow]:
    """Chats started -> registered -> sent a photo -> paid, per start day and channel.

    Every stage counts chats, not registrations (one runner may register a family of four), and a
    chat is counted on the day it started, so "registered" and "paid" never exceed "started".
    A chat paid from a bank statement is paid without having sent a photo.
    """
    zone = ZoneInfo(tz)
    chats: dict[object, _Chat] = {}
    by_chat: dict[tuple[str, str], object] = {}
    for conv_id, ts, channel, chat_id in _conversations_started(session, event_id):
        if ts is not None:
            chats[conv_id] = _Chat(_local_day(ts, zone), channel)
            by_chat[(channel, chat_id)] = conv_id
    regs = _where_event(
        select(
            Registration.conversation_id, Registration.channel, Registration.chat_id,
            Registration.created_at, Registration.paid_at,
        ),
        Registration.event_id,
        event_id,
    )  # fmt: skip
    photo_chats = {tuple(row) for row in session.execute(_photo_chats(event_id))}
    for conv_id, channel, chat_id, created, paid_at in session.execute(regs):
        key = conv_id if conv_id in chats else by_chat.get((channel, chat_id), (channel, chat_id))
        chat = chats.setdefault(key, _Chat(_local_day(created, zone), channel))
        chat.stages.add("confirmed")
        if (channel, chat_id) in photo_chats:
            chat.stages.add("photos")
        if paid_at:
            chat.stages.add("paid")
    return _funnel_rows(chats.values())


@dataclass
class _Chat:
    day: date
    channel: str
    stages: set[str] = field(default_factory=set)


def _photo_chats(event_id: int | None) -> Any:
    """(channel, chat) of every registration that sent a payment photo."""
    stmt = (
        select(Registration.channel, Registration.chat_id)
        .join(Payment, Payment.registration_id == Registration.id)
        .where(Payment.source == "photo")
        .distinct()
    )
    return _where_event(stmt, Registration.event_id, event_id)


def _funnel_rows(chats: Iterable[_Chat]) -> list[FunnelRow]:
    rows: dict[tuple[date, str], FunnelRow] = {}
    for chat in chats:
        row = rows.setdefault(
            (chat.day, chat.channel), FunnelRow(day=chat.day, channel=chat.channel)
        )
        row.started += 1
        for stage in chat.stages:
            setattr(row, stage, getattr(row, stage) + 1)
    return sorted(rows.values(), key=lambda r: (r.day, r.channel))


def _conversations_started(
    session: Session, event_id: int | None
) -> Iterator[tuple[int, datetime | None, str, str]]:
    """(id, started, channel, chat) per conversation; for one event, those that chose it or registered.

    A conversation that has not picked an event yet belongs to no event, so the per-event funnel
    can undercount by the runners still on the first question; the all-events funnel counts them.
    """
    started = func.coalesce(Conversation.started_at, Conversation.created_at)
    stmt = select(Conversation.id, started, Conversation.channel, Conversation.chat_id)
    if not event_id:
        yield from (tuple(row) for row in session.execute(stmt))
        return
    slug = session.scalar(select(Event.slug).where(Event.id == event_id))
    linked = set(
        session.scalars(
            select(Registration.conversation_id).where(
                Registration.event_id == event_id, Registration.conversation_id.is_not(None)
            )
        )
    )
    rows = session.execute(stmt.add_columns(Conversation.answers).execution_options(yield_per=1000))
    for conv_id, ts, channel, chat_id, answers in rows:
        if conv_id in linked or (slug and (answers or {}).get("event") == slug):
            yield conv_id, ts, channel, chat_id


def participant_records(
    session: Session, *, filters: Filters, batch: int = 500
) -> Iterator[Registration]:
    """Yield registrations matching ``filters`` with participant and category loaded, in batches."""
    stmt = (
        filtered(filters)
        .options(joinedload(Registration.participant), joinedload(Registration.category))
        .order_by(Registration.id)
        .execution_options(yield_per=batch)
    )
    yield from session.scalars(stmt)


FINANCIAL_COLUMNS = (
    "registration", "name", "category", "status", "price", "unique_code", "amount_due",
    "amount_received", "payment_status", "payment_source", "verified_by", "verified_at",
)  # fmt: skip


def financial_rows(session: Session, *, event_id: int | None) -> Iterator[dict[str, Any]]:
    """Yield one row per payment (or per registration without one), for the financial report."""
    stmt = (
        select(Registration, Payment, AdminUser.email)
        .join(Participant, Participant.id == Registration.participant_id)
        .outerjoin(Payment, Payment.registration_id == Registration.id)
        .outerjoin(AdminUser, AdminUser.id == Payment.verified_by_id)
        .options(joinedload(Registration.participant), joinedload(Registration.category))
        .order_by(Registration.id, Payment.id)
        .execution_options(yield_per=500)
    )
    for registration, payment, verifier in session.execute(
        _where_event(stmt, Registration.event_id, event_id)
    ):
        yield {
            "registration": registration.number,
            "name": registration.participant.full_name,
            "category": registration.category.code,
            "status": registration.status,
            "price": registration.price,
            "unique_code": registration.unique_code,
            "amount_due": registration.amount_due,
            "amount_received": _received(registration, payment),
            "payment_status": payment.status if payment else "",
            "payment_source": payment.source if payment else "",
            "verified_by": verifier or "",
            "verified_at": payment.verified_at if payment and payment.verified_at else None,
        }


def _received(registration: Registration, payment: Payment | None) -> int | None:
    if payment is not None and payment.amount_received is not None:
        return payment.amount_received
    if payment is not None and payment.status == PaymentStatus.APPROVED.value:
        return registration.amount_received or registration.amount_due
    return None
