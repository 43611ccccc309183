"""Registrations: submit a confirmed chat registration without ever overselling.

Lock order inside submit (registration.stock documents the rest): the duplicate email/NIK advisory
locks, the category's turn lock and its row (one statement on PostgreSQL), the chat's waiting-list
hold (read with the tier counts), the voucher, jersey stock, the category's registration sequence,
then payments' per-event amount lock. The price is locked here too: the current tier is counted
under the category row lock, and a voucher is locked right after (core.events.pricing,
core.registration.vouchers). Duplicate checks are serialised per event and value with a
transaction-scoped advisory lock, because the row that would conflict does not exist yet. The category
turn lock exists for fairness: in a sell-out rush no runner waits several times the median (or past
lock_timeout).

The critical section (turn lock to commit) is a handful of round trips, each a cached statement
with bound parameters; rows are written with single INSERT/UPDATE ... RETURNING statements and the
loaded objects told the result (core.db.insert_now, set_committed_value), never flushed or reloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import audit
from core.db import advisory_xact_lock, insert_now, lock_key
from core.enums import ACTIVE_STATUSES, RegistrationStatus, values
from core.errors import DuplicateParticipant, NotFound, ServiceError, SoldOut
from core.events import pricing
from core.models import Category, Event, Participant, PriceTier, Registration, Sequence
from core.models.waitlist import WaitlistEntry
from core.registration import stock, vouchers, waitlist

# The participant's own columns (the rest of the answers stay in Participant.answers): the one
# list, so a new column is added here and nowhere else (registration.manage edits the same list).
PARTICIPANT_FIELDS = (
    "full_name", "gender", "date_of_birth", "email", "phone", "nik", "jersey_size",
    "emergency_name", "emergency_phone", "blood_type", "medical_notes", "club",
)  # fmt: skip


@dataclass(frozen=True)
class Submission:
    """Everything submit() needs: the chat it came from and the collected answers."""

    event_id: int
    category_code: str
    answers: dict[str, Any]
    channel: str
    chat_id: str
    language: str = "id"
    conversation_id: int | None = None
    voucher_code: str | None = None
    # The price the runner was shown in the summary; a different price refuses (PriceChanged).
    expected_price: int | None = None


class PriceChanged(ServiceError):
    """The price moved (a tier sold out or ended) since the runner saw the summary."""

    key = "pricing.changed"


@dataclass(frozen=True)
class Price:
    """The price locked for one registration."""

    list_price: int
    tier_id: int | None
    voucher: vouchers.Applied | None

    @property
    def net(self) -> int:
        return self.list_price - (self.voucher.discount if self.voucher else 0)


def age_on(born: date, day: date) -> int:
    """Completed years on ``day`` (a category's age limits apply on race day)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _next_number_statements() -> dict[str, Any]:
    """One upsert per dialect: the first registration of a category inserts the row, every later
    one bumps it; either way the row lock is taken and the new value returned in one statement."""
    table = Sequence.__table__
    built = {}
    for dialect in (postgresql, sqlite):
        stmt = dialect.insert(table).values(
            category_id=bindparam("category"), kind="registration", next_value=2
        )
        built[dialect.dialect.name] = stmt.on_conflict_do_update(
            index_elements=["category_id", "kind"], set_={"next_value": table.c.next_value + 1}
        ).returning(table.c.next_value)
    return built


_NEXT_NUMBER = _next_number_statements()


def next_number(session: Session, *, category: Category) -> str:
    """Advance the category's registration sequence under a row lock: ``JFR-10K-00042``."""
    stmt = _NEXT_NUMBER[session.get_bind().dialect.name]
    value = session.scalar(stmt, {"category": category.id})
    return f"{category.reg_prefix}-{value - 1:05d}"


def _duplicate_query(field: str) -> Any:
    registrations, participants = Registration.__table__.c, Participant.__table__.c
    return (
        select(registrations.id)
        .join_from(
            Registration.__table__,
            Participant.__table__,
            registrations.participant_id == participants.id,
        )
        .where(
            registrations.event_id == bindparam("event"),
            registrations.status.in_(values(ACTIVE_STATUSES)),
            participants[field] == bindparam("value"),
        )
        .limit(1)
    )


# Core (table columns), so no ORM compile step runs for a probe that returns one id.
_DUPLICATE = {field: _duplicate_query(field) for field in ("email", "nik")}


def find_duplicate(session: Session, *, event_id: int, field: str, value: str) -> bool:
    """True when an active registration of ``event_id`` already uses this email or NIK."""
    stmt = _DUPLICATE["email" if field == "email" else "nik"]
    return session.scalar(stmt, {"event": event_id, "value": value}) is not None


def _lock_identity(session: Session, *, event_id: int, field: str, value: str) -> None:
    advisory_xact_lock(session, lock_key("dup", event_id, field, value))


def _check_duplicates(session: Session, event_id: int, answers: dict[str, Any]) -> None:
    for field in ("email", "nik"):
        value = answers.get(field)
        if not value:
            continue
        _lock_identity(session, event_id=event_id, field=field, value=str(value))
        if find_duplicate(session, event_id=event_id, field=field, value=str(value)):
            raise DuplicateParticipant(f"{field} taken", field=field, value=value)


def submit(session: Session, *, submission: Submission, now: datetime) -> Registration:
    """Create participant + registration (status pending_payment), taking a slot and a jersey.

    Raises:
        SoldOut: the category (``params["kind"] == "category"``) or jersey size (``"jersey"``) is gone.
        DuplicateParticipant: the email or NIK is already registered in the event.
    """
    answers = submission.answers
    event = session.get(Event, submission.event_id)  # the flow's loaded event: no SQL
    if event is None:
        raise NotFound("event", key="error.not_found")
    _check_duplicates(session, event.id, answers)
    # Before the category locks, so the critical section stays short; a refusal rolls it back.
    participant = _participant(event.id, answers)
    insert_now(session, participant)
    category = stock.lock_category(
        session, event_id=event.id, code=submission.category_code, turn=True
    )
    tiers, hold_id = _read_locked(session, submission, category, now)
    price = _lock_price(session, submission, category, tiers, now)
    # A slot offered from the waiting list is already taken for this chat: it is used, not taken.
    hold = waitlist.load_hold(session, hold_id)
    full = category.slots_left <= 0 and hold is None
    outside = full and bool(price.voucher and price.voucher.beyond_quota)
    if full and not outside:  # before the jersey lock: a full category first
        raise SoldOut("category", kind="category", code=category.code)
    jersey = _take_place(session, category, answers.get("jersey_size"), hold, outside=outside)
    registration = _registration(
        submission, event, category, participant, next_number(session, category=category), now
    )
    _apply_price(registration, price, outside=outside)
    insert_now(session, registration)
    if hold is not None:
        waitlist.registered(session, hold, registration)
    audit.record_now(
        session,
        actor=f"{submission.channel}:{submission.conversation_id or '-'}",
        action="registration.submitted",
        subject_type="registration",
        subject_id=registration.id,
        after={"number": registration.number, "category": category.code, "jersey": jersey},
        price=registration.price,
        voucher=price.voucher.code if price.voucher else None,
    )
    return registration


def _take_place(
    session: Session,
    category: Category,
    size: str | None,
    hold: WaitlistEntry | None,
    *,
    outside: bool,
) -> str | None:
    """The jersey, and the slot unless a hold already took it or a voucher's place is outside."""
    if hold is None and not outside and size:
        stock.take_place(session, category, size)  # the common case: one statement
        return size
    if hold is not None:
        return waitlist.take_jersey_with_hold(session, hold, event_id=category.event_id, size=size)
    jersey = stock.take_jersey(session, event_id=category.event_id, size=size)
    if not outside:
        stock.take_slot_now(session, category)
    return jersey


# What a confirmation reads under the category lock, in one statement: the category's price
# tiers with their counts (pricing) and the chat's live waiting-list hold, locked (waitlist). One
# row at least (the hold beside NULL tier columns when the category has no tiers).
_ONE = select(literal(1).label("one")).subquery("one")
_tiers = PriceTier.__table__
_READ_LOCKED = (
    select(waitlist.LIVE_HOLD.scalar_subquery().label("hold"), *pricing.TIER_COLUMNS)
    .select_from(_ONE.outerjoin(_tiers, _tiers.c.category_id == bindparam("category")))
    .order_by(*pricing.TIER_ORDER)
)


def _read_locked(
    session: Session, submission: Submission, category: Category, now: datetime
) -> tuple[tuple[pricing.Tier, ...], int | None]:
    """The category's tiers (counted now, under its row lock) and the chat's live hold id."""
    params = {"category": category.id, "channel": submission.channel,
              "chat": submission.chat_id, "now": now}  # fmt: skip
    rows = session.execute(_READ_LOCKED, params).all()
    tiers = tuple(pricing.tier_from_row(row) for row in rows if row.id is not None)
    return tiers, rows[0].hold


def _lock_price(
    session: Session,
    submission: Submission,
    category: Category,
    tiers: tuple[pricing.Tier, ...],
    now: datetime,
) -> Price:
    """The current tier (counted under the category lock) less the voucher (locked next)."""
    quote = pricing.current(category.price, tiers, now=now)
    applied = None
    if submission.voucher_code:
        applied = vouchers.redeem(
            session,
            event_id=category.event_id,
            code=submission.voucher_code,
            category=category.code,
            price=quote.price,
            now=now,
        )
    price = Price(quote.price, quote.tier.id if quote.tier else None, applied)
    if submission.expected_price is not None and price.net != submission.expected_price:
        raise PriceChanged("price changed", price=price.net, shown=submission.expected_price)
    return price


def _apply_price(registration: Registration, price: Price, *, outside: bool) -> None:
    registration.price = price.net
    registration.amount_due = price.net  # payments.assign_amount adds the unique code
    registration.price_tier_id = price.tier_id
    registration.voucher_id = price.voucher.voucher_id if price.voucher else None
    registration.discount = price.voucher.discount if price.voucher else 0
    registration.outside_quota = outside


def _registration(
    submission: Submission,
    event: Event,
    category: Category,
    participant: Participant,
    number: str,
    now: datetime,
) -> Registration:
    # The related rows are given as objects too: registration.event (payments reads it) is then
    # this loaded event, never a second SELECT.
    return Registration(
        number=number,
        event_id=event.id,
        event=event,
        category_id=category.id,
        category=category,
        participant_id=participant.id,
        participant=participant,
        conversation_id=submission.conversation_id,
        status=RegistrationStatus.PENDING_PAYMENT.value,
        channel=submission.channel,
        chat_id=submission.chat_id,
        language=submission.language,
        price=category.price,
        amount_due=category.price,  # payments.assign_amount adds the unique code
        created_at=now,
    )


def _participant(event_id: int, answers: dict[str, Any]) -> Participant:
    values = {f: answers.get(f) or None for f in PARTICIPANT_FIELDS if f != "date_of_birth"}
    values["full_name"] = answers.get("full_name") or ""
    born = answers.get("date_of_birth")
    public = {k: v for k, v in answers.items() if not k.startswith("_")}
    return Participant(
        event_id=event_id,
        date_of_birth=date.fromisoformat(born) if born else None,
        answers=public,
        **values,
    )


def for_chat(session: Session, *, channel: str, chat_id: str) -> list[Registration]:
    """All registrations made from one chat, oldest first."""
    stmt = (
        select(Registration)
        .where(Registration.channel == channel, Registration.chat_id == chat_id)
        .order_by(Registration.id)
    )
    return list(session.scalars(stmt))
