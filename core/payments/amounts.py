"""Amounts due: the unique amount (price +/- a code), transfer instructions and accounts.

The rest of the payments area sits beside this module: ``photos`` (proof screenshots),
``verification`` (approve), ``rejection``, ``deadlines`` (expiry, reminders), ``state`` (locks
and what is owed) and ``statements`` (bank exports).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Update,
    bindparam,
    exists,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core.db import advisory_xact_lock, is_postgres
from core.enums import AWAITING_STATUSES, UniqueCodeMode, values
from core.i18n import t
from core.messages import Choice, Reply
from core.models import PaymentAccount, Registration, RegistrationGroup
from core.payments.state import deadline_text, outstanding

CODE_RANGE = range(1, 1000)
# Used only when every code 1-999 is taken at one price (a sell-out rush): uniqueness, which is what
# statement matching needs, matters more than keeping the code to three digits.
OVERFLOW_RANGE = range(1000, 10000)
_AMOUNT_LOCK_BASE = 0x5041_5900_0000  # "PAY" namespace for per-event advisory locks
_random = secrets.SystemRandom()


def assign_amount(session: Session, *, registration: Registration, now: datetime) -> None:
    """Set the amount due (price +/- a unique code), the payment deadline and the expiry time.

    No two registrations awaiting payment in one event share an amount: the (event_id, amount_key)
    unique constraint guarantees it, and a per-event advisory lock, which every writer of a key
    takes (this, assign_rest, group_payment), makes confirmations pick one after the other, so no
    retry is needed: a collision would mean a writer bypassed the lock, and its IntegrityError rolls
    the confirmation back. On PostgreSQL two statements: the lock, and one UPDATE that picks among
    random candidates and sets the amount (_pick_and_set); else, or when every candidate is taken,
    a probe (or one read of the whole range) and the ORM UPDATE. Idempotent once a key is set.
    """
    if registration.amount_key is not None:
        _set_deadline(registration, now)
        return
    mode = UniqueCodeMode(registration.event.unique_code_mode)
    if mode is UniqueCodeMode.OFF:
        _set_deadline(registration, now)
        registration.unique_code = 0
        registration.amount_due = registration.price
        return
    # Serialises pickers per event; released at commit, after which the new key is visible. Taken
    # last (after the category, jersey and sequence locks), so it is held only for this step.
    advisory_xact_lock(session, _AMOUNT_LOCK_BASE + registration.event_id)
    session.flush()  # the registration's id, and no pending change left to autoflush later
    if _pick_and_set(session, registration, mode, now):
        return
    code = _free_code(session, registration, mode)
    _set_deadline(registration, now)
    registration.unique_code = code
    registration.amount_due = registration.price + _sign(mode) * code
    registration.amount_key = registration.amount_due
    session.flush()


def _pick_statement() -> Update:
    """UPDATE the registration to the first of some random codes whose amount is free (the two
    held-key probes of _used_amounts as NOT EXISTS), RETURNING it; PostgreSQL (unnest)."""
    candidate = (
        func.unnest(bindparam("codes", type_=ARRAY(Integer)))
        .table_valued("code")
        .render_derived(name="candidate")
    )
    amount = bindparam("base", type_=Integer) + bindparam("sign", type_=Integer) * candidate.c.code
    other = Registration.__table__.alias("other")
    single = exists().where(
        other.c.event_id == bindparam("event"),
        other.c.amount_key == amount,
        other.c.id != bindparam("registration"),
    )
    open_member = exists().where(
        other.c.group_id == RegistrationGroup.id,
        other.c.status.in_(values(AWAITING_STATUSES)),
    )
    grouped = exists().where(
        RegistrationGroup.event_id == bindparam("event"),
        RegistrationGroup.amount_key == amount,
        open_member,
    )
    table = Registration.__table__
    registration = bindparam("registration", type_=table.c.id.type).label("id")
    pick = select(candidate.c.code, registration).where(~single, ~grouped).limit(1).subquery("pick")
    chosen = bindparam("base", type_=Integer) + bindparam("sign", type_=Integer) * pick.c.code
    return (
        update(table)
        .where(table.c.id == pick.c.id)
        .values(
            unique_code=pick.c.code,
            amount_due=chosen,
            amount_key=chosen,
            payment_deadline=bindparam("deadline"),
            expires_at=bindparam("expires"),
        )
        .returning(table.c.unique_code, table.c.amount_due)
    )


_PICK_AND_SET = _pick_statement()


def _pick_and_set(
    session: Session, registration: Registration, mode: UniqueCodeMode, now: datetime
) -> bool:
    """The common case in one statement: False when it does not apply (SQLite) or every
    candidate was taken (a nearly full range: the caller reads the range once instead)."""
    codes = _codes(CODE_RANGE, mode, registration.price)
    if not codes or not is_postgres(session):
        return False
    deadline, expires = _deadline(registration, now)
    row = session.execute(
        _PICK_AND_SET,
        {
            "codes": _random.sample(codes, min(_PROBES, len(codes))),
            "base": registration.price,
            "sign": _sign(mode),
            "event": registration.event_id,
            "registration": registration.id,
            "deadline": deadline,
            "expires": expires,
        },
    ).first()
    if row is None:
        return False
    # The row now holds these; the object is told so without another SELECT (nothing to flush).
    for key, value in (
        ("unique_code", row.unique_code), ("amount_due", row.amount_due),
        ("amount_key", row.amount_due), ("payment_deadline", deadline), ("expires_at", expires),
    ):  # fmt: skip
        set_committed_value(registration, key, value)
    return True


def assign_rest(session: Session, *, registration: Registration, now: datetime) -> None:
    """Give what a part-paid registration still owes (a category change's difference) its own
    unique amount: the code is picked so the rest, not the total, is unique, and the rest is
    the amount key, because the rest is what the bank statement will show."""
    received = registration.amount_received or 0
    mode = UniqueCodeMode(registration.event.unique_code_mode)
    rest = registration.price - received
    if not received or mode is UniqueCodeMode.OFF or rest <= 1:
        assign_amount(session, registration=registration, now=now)
        return
    advisory_xact_lock(session, _AMOUNT_LOCK_BASE + registration.event_id)
    session.flush()
    skip = (registration.id, 0)
    code = free_code(session, event_id=registration.event_id, price=rest, mode=mode, skip=skip)
    _set_deadline(registration, now)
    registration.unique_code = code
    registration.amount_due = registration.price + _sign(mode) * code
    registration.amount_key = rest + _sign(mode) * code
    session.flush()


def _sign(mode: UniqueCodeMode) -> int:
    return 1 if mode is UniqueCodeMode.ADD else -1


def _set_deadline(registration: Registration, now: datetime) -> None:
    registration.payment_deadline, registration.expires_at = _deadline(registration, now)


def _deadline(registration: Registration, now: datetime) -> tuple[datetime, datetime | None]:
    """The payment deadline and expiry: the ones set, else counted from ``now``."""
    if registration.payment_deadline is not None:
        return registration.payment_deadline, registration.expires_at
    event = registration.event
    deadline = now + timedelta(hours=event.payment_deadline_hours)
    return deadline, deadline + timedelta(hours=event.payment_grace_hours)


def _codes(codes: range, mode: UniqueCodeMode, top: int) -> range:
    """The codes of ``codes`` allowed at ``top`` (SUBTRACT: below it, so the amount stays > 0)."""
    if mode is UniqueCodeMode.SUBTRACT:
        return range(codes.start, max(codes.start, min(codes.stop, top)))
    return codes


_PROBES = 8  # random candidates checked in one indexed query before falling back to a full scan


def _free_code(session: Session, registration: Registration, mode: UniqueCodeMode) -> int:
    """Pick a random code whose amount no other awaiting registration (or group) of the event holds."""
    return free_code(
        session, event_id=registration.event_id, price=registration.price, mode=mode,
        skip=(registration.id, 0),
    )  # fmt: skip


def free_code(
    session: Session,
    *,
    event_id: int,
    price: int,
    mode: UniqueCodeMode,
    skip: tuple[int, int],
    most: int | None = None,
) -> int:
    """A random code for ``price`` (a registration's, or a group's total) that no awaiting amount
    of the event holds. ``skip``: the registration id and group id that do not count (0: none);
    ``most``: the largest code allowed (SUBTRACT mode: below the price that carries it)."""
    sign = _sign(mode)
    top = min(price, most if most is not None else price)
    for allowed in (CODE_RANGE, OVERFLOW_RANGE):
        codes = _codes(allowed, mode, top)
        if not codes:
            continue
        # Cheap first: a few random candidates, one probe of the (event_id, amount_key) index.
        candidates = _random.sample(codes, min(_PROBES, len(codes)))
        used = _used_amounts(session, event_id, skip, [price + sign * c for c in candidates])
        free = [c for c in candidates if price + sign * c not in used]
        if not free:  # the range is nearly full: read every key in it once
            low, high = sorted((price + sign * codes[0], price + sign * codes[-1]))
            used = _used_amounts(session, event_id, skip, (low, high))
            free = [c for c in codes if price + sign * c not in used]
        if free:
            return _random.choice(free)
    raise RuntimeError("no unique code left")  # pragma: no cover - 9,999 awaiting at one price


def _held_keys(among: Callable[[Any], ColumnElement[bool]]) -> CompoundSelect:
    """Amount keys held in an event: by registrations awaiting payment (a key is set only while
    payment is awaited) and by groups with a member still awaiting theirs; built once per shape."""
    single = select(Registration.amount_key).where(
        Registration.event_id == bindparam("event"),
        among(Registration.amount_key),
        Registration.id != bindparam("registration"),
    )
    open_member = exists().where(
        Registration.group_id == RegistrationGroup.id,
        Registration.status.in_(values(AWAITING_STATUSES)),
    )
    grouped = select(RegistrationGroup.amount_key).where(
        RegistrationGroup.event_id == bindparam("event"),
        among(RegistrationGroup.amount_key),
        RegistrationGroup.id != bindparam("group"),
        open_member,
    )
    return union_all(single, grouped)


_HELD_AMONG = _held_keys(lambda column: column.in_(bindparam("keys", expanding=True)))
_HELD_BETWEEN = _held_keys(lambda column: column.between(bindparam("low"), bindparam("high")))


def _used_amounts(
    session: Session, event_id: int, skip: tuple[int, int], keys: list[int] | tuple[int, int]
) -> set[int]:
    """Amount keys among ``keys`` (a list, or a (low, high) range) held in the event (one query)."""
    params: dict[str, Any] = {"event": event_id, "registration": skip[0], "group": skip[1]}
    if isinstance(keys, list):
        rows = session.scalars(_HELD_AMONG, {**params, "keys": keys})
    else:
        rows = session.scalars(_HELD_BETWEEN, {**params, "low": keys[0], "high": keys[1]})
    return set(rows)


def active_accounts(session: Session, *, event_id: int) -> list[PaymentAccount]:
    """Return the accounts runners may pay into: the event's own and the global ones."""
    return list(
        session.scalars(
            select(PaymentAccount)
            .where(
                PaymentAccount.active.is_(True),
                or_(PaymentAccount.event_id == event_id, PaymentAccount.event_id.is_(None)),
            )
            .order_by(PaymentAccount.sort_order, PaymentAccount.id)
        )
    )


def instructions(session: Session, *, registration: Registration, language: str) -> list[Reply]:
    """Build the transfer instructions: accounts, exact amount, deadline; QRIS images as photos."""
    accounts = active_accounts(session, event_id=registration.event_id)
    banks = [a for a in accounts if a.account_number or not a.qris_image_path]
    if not accounts:
        return [Reply(text=t("payment.no_accounts", language))]
    text = t(
        "payment.instructions",
        language,
        number=registration.number,
        amount=registration.amount_due,
        code=registration.unique_code,
        accounts=[
            {
                "bank_name": a.bank_name,
                "account_number": a.account_number,
                "holder_name": a.holder_name,
            }
            for a in banks
        ],
        deadline=deadline_text(registration, language=language),
    )
    replies = [Reply(text=text, kind="payment")]
    for account in accounts:
        if account.qris_image_path:
            caption = t(
                "payment.qris_caption",
                language,
                bank_name=account.bank_name,
                amount=registration.amount_due,
            )
            replies.append(Reply(text=caption, image_path=account.qris_image_path, kind="payment"))
    return replies


def awaiting_payment(session: Session, *, channel: str, chat_id: str) -> list[Registration]:
    """Return this chat's registrations that may still take a proof photo, oldest first."""
    return list(
        session.scalars(
            select(Registration)
            .where(
                Registration.channel == channel,
                Registration.chat_id == chat_id,
                Registration.status.in_(values(AWAITING_STATUSES)),
            )
            .order_by(Registration.id)
        )
    )


def choose_registration_reply(registrations: Sequence[Registration], language: str) -> Reply:
    """Ask which registration a photo is for (numbered; the last option means all of them)."""
    owed = [outstanding(r) for r in registrations]  # part-paid: the rest
    items = [
        {"number": r.number, "name": r.participant.full_name, "amount": amount}
        for r, amount in zip(registrations, owed, strict=True)
    ]
    choices = tuple(Choice(label=r.number, value=str(r.id)) for r in registrations)
    text = t(
        "payment.choose_registration",
        language,
        count=len(items),
        items=items,
        total=sum(owed),
    )
    every = Choice(label=t("payment.choose_all", language), value="all")
    return Reply(text=text, choices=(*choices, every))
