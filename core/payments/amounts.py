"""Amounts due: the unique amount (price +/- a code), transfer instructions and accounts.

The rest of the payments area sits beside this module: ``photos`` (proof screenshots),
``verification`` (approve), ``rejection``, ``deadlines`` (expiry, reminders), ``state`` (locks
and what is owed) and ``statements`` (bank exports).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, exc, exists, or_, select
from sqlalchemy.orm import Session

from core.db import advisory_xact_lock
from core.enums import AWAITING_STATUSES, UniqueCodeMode, values
from core.i18n import t
from core.messages import Choice, Reply
from core.models import PaymentAccount, Registration, RegistrationGroup
from core.payments.state import deadline_text, outstanding

log = logging.getLogger(__name__)

CODE_RANGE = range(1, 1000)
# Used only when every code 1-999 is taken at one price (a sell-out rush): uniqueness, which is what
# statement matching needs, matters more than keeping the code to three digits.
OVERFLOW_RANGE = range(1000, 10000)
_AMOUNT_LOCK_BASE = 0x5041_5900_0000  # "PAY" namespace for per-event advisory locks
_random = secrets.SystemRandom()


def assign_amount(session: Session, *, registration: Registration, now: datetime) -> None:
    """Set the amount due (price +/- a unique code), the payment deadline and the expiry time.

    No two registrations awaiting payment in one event share an amount: the (event_id, amount_key)
    unique constraint guarantees it, and a per-event advisory lock makes concurrent confirmations
    pick one after the other instead of colliding. Idempotent once an amount key is set.
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
    session.flush()  # the registration must exist outside the savepoint a collision rolls back
    sign = 1 if mode is UniqueCodeMode.ADD else -1
    for _attempt in range(5):
        code = _free_code(session, registration, mode)
        try:
            with session.begin_nested():  # a savepoint: a collision only undoes this attempt
                _set_deadline(registration, now)  # again: a rolled-back attempt expires it
                registration.unique_code = code
                registration.amount_due = registration.price + sign * code
                registration.amount_key = registration.amount_due
                session.flush()
            return
        except exc.IntegrityError:
            # Only when a writer bypassed the lock (or on SQLite replay); pick again.
            log.warning("amount collision for registration %s; retrying", registration.id)
    raise RuntimeError("could not assign a unique amount")  # pragma: no cover


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
    sign = 1 if mode is UniqueCodeMode.ADD else -1
    for _attempt in range(5):
        skip = (Registration.id != registration.id, None)
        code = free_code(session, event_id=registration.event_id, price=rest, mode=mode, skip=skip)
        try:
            with session.begin_nested():
                _set_deadline(registration, now)
                registration.unique_code = code
                registration.amount_due = registration.price + sign * code
                registration.amount_key = rest + sign * code
                session.flush()
            return
        except exc.IntegrityError:
            log.warning("amount collision for registration %s; retrying", registration.id)
    raise RuntimeError("could not assign a unique amount")  # pragma: no cover


def _set_deadline(registration: Registration, now: datetime) -> None:
    if registration.payment_deadline is None:
        event = registration.event
        registration.payment_deadline = now + timedelta(hours=event.payment_deadline_hours)
        registration.expires_at = registration.payment_deadline + timedelta(
            hours=event.payment_grace_hours
        )


_PROBES = 8  # random candidates checked in one indexed query before falling back to a full scan


def _free_code(session: Session, registration: Registration, mode: UniqueCodeMode) -> int:
    """Pick a random code whose amount no other awaiting registration (or group) of the event holds."""
    return free_code(
        session, event_id=registration.event_id, price=registration.price, mode=mode,
        skip=(Registration.id != registration.id, None),
    )  # fmt: skip


def free_code(
    session: Session,
    *,
    event_id: int,
    price: int,
    mode: UniqueCodeMode,
    skip: tuple[ColumnElement[bool], int | None],
    most: int | None = None,
) -> int:
    """A random code for ``price`` (a registration's, or a group's total) that no awaiting amount
    of the event holds. ``skip``: the registration condition and group id that do not count;
    ``most``: the largest code allowed (SUBTRACT mode: below the price that carries it)."""
    sign = 1 if mode is UniqueCodeMode.ADD else -1
    top = min(price, most if most is not None else price)
    for codes in (CODE_RANGE, OVERFLOW_RANGE):
        if mode is UniqueCodeMode.SUBTRACT:
            codes = range(codes.start, max(codes.start, min(codes.stop, top)))
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


def _used_amounts(
    session: Session,
    event_id: int,
    skip: tuple[ColumnElement[bool], int | None],
    keys: list[int] | tuple[int, int],
) -> set[int]:
    """Amount keys among ``keys`` (a list, or a (low, high) range) held in the event: by other
    registrations awaiting payment, and by groups with a member still awaiting theirs."""

    def among(column: Any) -> ColumnElement[bool]:
        return column.in_(keys) if isinstance(keys, list) else column.between(*keys)

    single = select(Registration.amount_key).where(
        Registration.event_id == event_id, among(Registration.amount_key), skip[0]
    )
    open_member = exists().where(
        Registration.group_id == RegistrationGroup.id,
        Registration.status.in_(values(AWAITING_STATUSES)),
    )
    grouped = select(RegistrationGroup.amount_key).where(
        RegistrationGroup.event_id == event_id,
        among(RegistrationGroup.amount_key),
        RegistrationGroup.id != (skip[1] or 0),
        open_member,
    )
    return set(session.scalars(single)) | set(session.scalars(grouped))


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
