"""The waiting list: join a sold-out category, get a freed slot offered with a hold, accept or lapse.

Race safety rests on core.registration.stock's lock order (registration, category turn, category
rows, jersey rows) with the waiting-list rows locked last: a freed slot is offered while the
category row is still locked by the release that freed it, so two slots freed at once are offered
one after the other, each to the first runner still waiting, and one slot never to two runners.
An offered entry holds its slot in ``slots_taken``: nobody else can buy it until it lapses.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from core import audit
from core.db import skip_locked
from core.formatting import format_datetime
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import Category, Event, JerseyStock, OutboundMessage, Registration
from core.models.waitlist import HOLDING, LIVE, WaitlistEntry, WaitlistStatus
from core.registration import stock

log = logging.getLogger(__name__)

BATCH = 200
# Waiting runners looked at per freed slot: enough to pass over those waiting for other jersey sizes.
SCAN = 500
# Offer texts written by a release, for the caller to deliver after commit (others: the sweep).
OUTBOUND_KEY = "waitlist_outbound"


@dataclass(frozen=True, slots=True)
class Joined:
    entry: WaitlistEntry
    position: int
    already: bool  # the chat was already waiting for this category (and size)


def join(
    session: Session,
    *,
    category: Category,
    jersey_size: str | None,
    chat: dict[str, Any],
    answers: dict[str, Any],
    now: datetime,
) -> Joined:
    """Put a chat on the category's list (``chat``: channel, chat_id, conversation_id, language, name)."""
    stock.lock_category_turn(session, event_id=category.event_id, code=category.code)
    existing = session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.category_id == category.id,
            WaitlistEntry.channel == chat["channel"],
            WaitlistEntry.chat_id == chat["chat_id"],
            WaitlistEntry.status.in_(LIVE),
        )
    ).first()
    if existing is not None:
        return Joined(existing, position(session, existing), already=True)
    last = session.scalar(
        select(func.max(WaitlistEntry.position)).where(WaitlistEntry.category_id == category.id)
    )
    entry = WaitlistEntry(
        event_id=category.event_id,
        category_id=category.id,
        jersey_size=jersey_size or None,
        answers=dict(answers),
        position=(last or 0) + 1,
        created_at=now,
        **chat,
    )
    session.add(entry)
    session.flush()
    _audit(session, entry, f"{entry.channel}:{entry.conversation_id or '-'}", "waitlist.joined")
    return Joined(entry, position(session, entry), already=False)


def position(session: Session, entry: WaitlistEntry) -> int:
    """1 for the first runner still waiting in the entry's category (0 once it left the queue)."""
    if entry.status != WaitlistStatus.WAITING.value:
        return 0
    ahead = session.scalar(
        select(func.count(WaitlistEntry.id)).where(
            WaitlistEntry.category_id == entry.category_id,
            WaitlistEntry.status == WaitlistStatus.WAITING.value,
            WaitlistEntry.position < entry.position,
        )
    )
    return (ahead or 0) + 1


def for_chat(session: Session, *, channel: str, chat_id: str) -> list[WaitlistEntry]:
    """The chat's entries still on a list, oldest first."""
    return list(
        session.scalars(
            select(WaitlistEntry)
            .where(
                WaitlistEntry.channel == channel,
                WaitlistEntry.chat_id == chat_id,
                WaitlistEntry.status.in_(LIVE),
            )
            .order_by(WaitlistEntry.id)
        )
    )


def participants(
    session: Session, *, event_id: int, category_id: int | None = None
) -> list[WaitlistEntry]:
    """The broadcast segment "waiting list": entries still waiting or offered, in queue order."""
    query = select(WaitlistEntry).where(
        WaitlistEntry.event_id == event_id, WaitlistEntry.status.in_(LIVE)
    )
    if category_id is not None:
        query = query.where(WaitlistEntry.category_id == category_id)
    return list(session.scalars(query.order_by(WaitlistEntry.category_id, WaitlistEntry.position)))


def offer_freed(
    session: Session, category: Category, *, jersey: JerseyStock | None, now: datetime
) -> list[WaitlistEntry]:
    """Offer the locked category's free slots to its waiting runners, first in order first.

    ``jersey`` is the locked stock row of the size just given back (if any): a runner waiting for
    that size can be served from it; one waiting for another size waits on.
    """
    offered: list[WaitlistEntry] = []
    if category.slots_left <= 0:
        return offered
    for entry_id, size in _waiting(session, category.id):
        if category.slots_left <= 0:
            break
        if size and (jersey is None or jersey.size != size or jersey.left <= 0):
            continue  # waits for a size this release did not give back
        entry = _lock_waiting(session, entry_id)
        if entry is None:
            continue
        if entry.jersey_size and jersey is not None:
            jersey.taken += 1
            entry.held_jersey = jersey.size
        category.slots_taken += 1
        offer_entry(session, entry, category, now, actor="system")
        offered.append(entry)
    return offered


def _waiting(session: Session, category_id: int) -> list[tuple[int, str | None]]:
    # Not locked: every writer of the queue holds the category row lock (taken by our caller), so
    # the order read here cannot change underneath; only the chosen row is locked, not the queue.
    rows = session.execute(
        select(WaitlistEntry.id, WaitlistEntry.jersey_size)
        .where(
            WaitlistEntry.category_id == category_id,
            WaitlistEntry.status == WaitlistStatus.WAITING.value,
        )
        .order_by(WaitlistEntry.position, WaitlistEntry.id)
        .limit(SCAN)
    )
    return [(row.id, row.jersey_size) for row in rows]


def _lock_waiting(session: Session, entry_id: int) -> WaitlistEntry | None:
    return session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.status == WaitlistStatus.WAITING.value)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()


def offer_entry(
    session: Session, entry: WaitlistEntry, category: Category, now: datetime, *, actor: str
) -> None:
    event = session.get(Event, category.event_id)
    hours = event.waitlist_hold_hours if event else 12
    entry.status = WaitlistStatus.OFFERED.value
    entry.offered_at = now
    entry.hold_until = now + timedelta(hours=hours)
    session.flush()
    until = format_datetime(entry.hold_until, entry.language, event.timezone if event else "UTC")
    row = _tell(session, entry, "waitlist.offer", f"offer:{int(now.timestamp())}",
                category=category.code, until=until, size=entry.held_jersey or "")  # fmt: skip
    session.info.setdefault(OUTBOUND_KEY, []).append(row)
    _audit(session, entry, actor, "waitlist.offered", hold_until=entry.hold_until)
    log.info("waitlist entry %s offered a slot", entry.id)


def _tell(
    session: Session, entry: WaitlistEntry, key: str, suffix: str, **params: object
) -> OutboundMessage:
    return outbox.write(
        session,
        channel=entry.channel,
        recipient=entry.chat_id,
        reply=Reply(text=t(key, entry.language, **params)),
        idempotency_key=f"waitlist:{entry.id}:{suffix}",
        priority=outbox.PRIORITY_NOTIFICATION,
        conversation_id=entry.conversation_id,
    )


def pending_outbound(session: Session) -> list[OutboundMessage]:
    """Take the offer texts this session wrote (for deliver_after_commit)."""
    return list(session.info.pop(OUTBOUND_KEY, []))


def offered_to(
    session: Session, *, channel: str, chat_id: str, statuses: tuple[str, ...] = HOLDING
) -> WaitlistEntry | None:
    """The chat's entry holding a slot (the oldest; ``statuses``: only those), if any."""
    return session.scalars(
        select(WaitlistEntry)
        .where(
            WaitlistEntry.channel == channel,
            WaitlistEntry.chat_id == chat_id,
            WaitlistEntry.status.in_(statuses),
        )
        .order_by(WaitlistEntry.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def accept(session: Session, entry: WaitlistEntry, *, now: datetime) -> bool:
    """The runner said YA to an offer still held: keep the hold until they confirm or it lapses."""
    if entry.status not in HOLDING or entry.hold_until is None or entry.hold_until <= now:
        return False
    if entry.status == WaitlistStatus.OFFERED.value:
        entry.status = WaitlistStatus.ACCEPTED.value
        _audit(
            session, entry, f"{entry.channel}:{entry.conversation_id or '-'}", "waitlist.accepted"
        )
    return True


def leave(session: Session, *, channel: str, chat_id: str, now: datetime) -> list[WaitlistEntry]:
    """The runner leaves every list the chat is on; a slot they held goes to the next runner.

    Categories are locked in id order (the stock lock order), each before its entry.
    """
    found = sorted(for_chat(session, channel=channel, chat_id=chat_id), key=lambda e: e.category_id)
    left: list[WaitlistEntry] = []
    for candidate in found:
        category = stock.lock_categories(session, {candidate.category_id})[candidate.category_id]
        entry = session.scalars(
            select(WaitlistEntry)
            .where(WaitlistEntry.id == candidate.id, WaitlistEntry.status.in_(LIVE))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one_or_none()
        if entry is None:
            continue
        held = entry.status in HOLDING
        jersey = give_back_hold(session, entry, category) if held else None
        entry.status = WaitlistStatus.LEFT.value
        _audit(session, entry, f"{entry.channel}:{entry.conversation_id or '-'}", "waitlist.left")
        if held:
            offer_freed(session, category, jersey=jersey, now=now)
        left.append(entry)
    return left


_entries = WaitlistEntry.__table__.c
# Core, the id only: nearly every confirmation finds no hold, and the one that does loads it.
# Parameters: category, channel, chat, now. Intake runs it inside its one read under the lock.
LIVE_HOLD = (
    select(_entries.id)
    .where(
        _entries.category_id == bindparam("category"),
        _entries.channel == bindparam("channel"),
        _entries.chat_id == bindparam("chat"),
        _entries.status.in_(HOLDING),
        _entries.hold_until > bindparam("now"),
    )
    .order_by(_entries.id)
    .limit(1)
    .with_for_update()
)


def load_hold(session: Session, hold_id: int | None) -> WaitlistEntry | None:
    """The hold LIVE_HOLD found (and locked), refreshed: a loaded entry may be stale."""
    if hold_id is None:
        return None
    return session.get(WaitlistEntry, hold_id, populate_existing=True)


def take_jersey_with_hold(
    session: Session, hold: WaitlistEntry, *, event_id: int, size: str | None
) -> str | None:
    """The jersey for a registration made on a hold: the held one, or swapped for ``size``."""
    if (size or None) == hold.held_jersey:
        return size or None
    stock.move_jersey(
        session, event_id=event_id, old=hold.held_jersey, new=size, key="error.sold_out"
    )
    return size or None


def registered(session: Session, hold: WaitlistEntry, registration: Registration) -> None:
    """The held slot became ``registration``'s slot."""
    hold.status = WaitlistStatus.REGISTERED.value
    hold.registration_id = registration.id
    hold.held_jersey = None
    _audit(session, hold, f"{hold.channel}:{hold.conversation_id or '-'}", "waitlist.registered",
           registration=registration.number)  # fmt: skip


def lapse_due(session: Session, *, now: datetime, limit: int = BATCH) -> list[OutboundMessage]:
    """Lapse holds past ``hold_until`` and offer each freed slot to the next runner waiting."""
    due = session.execute(
        select(WaitlistEntry.id, WaitlistEntry.category_id)
        .where(WaitlistEntry.status.in_(HOLDING), WaitlistEntry.hold_until <= now)
        .order_by(WaitlistEntry.hold_until, WaitlistEntry.id)
        .limit(limit)
    ).all()
    rows: list[OutboundMessage] = []
    for entry_id, category_id in due:
        rows += _lapse(session, entry_id, category_id, now)
    return rows + pending_outbound(session)


def _lapse(
    session: Session, entry_id: int, category_id: int, now: datetime
) -> list[OutboundMessage]:
    # Lock order: the category row, the jersey row, then the entry (skipped if another sweep has it).
    category = stock.lock_categories(session, {category_id}).get(category_id)
    entry = session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.id == entry_id, WaitlistEntry.status.in_(HOLDING))
        .with_for_update(**skip_locked(session))
        .execution_options(populate_existing=True)
    ).one_or_none()
    if category is None or entry is None or entry.hold_until is None or entry.hold_until > now:
        return []
    jersey = give_back_hold(session, entry, category)
    entry.status = WaitlistStatus.LAPSED.value
    _audit(session, entry, "system", "waitlist.lapsed", hold_until=entry.hold_until)
    row = _tell(session, entry, "waitlist.lapsed", "lapsed", category=category.code)
    offer_freed(session, category, jersey=jersey, now=now)
    return [row]


def give_back_hold(
    session: Session, entry: WaitlistEntry, category: Category
) -> JerseyStock | None:
    """Return an entry's held slot and jersey to stock (the category row is locked by the caller)."""
    stock.give_back_slot(category)
    jersey = None
    if entry.held_jersey:
        jersey = stock.lock_jerseys(
            session, event_id=entry.event_id, sizes={entry.held_jersey}
        ).get(entry.held_jersey)
        if jersey is not None:
            jersey.taken = max(jersey.taken - 1, 0)
        entry.held_jersey = None
    return jersey


def _audit(session: Session, entry: WaitlistEntry, actor: str, action: str, **extra: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="waitlist_entry",
        subject_id=entry.id,
        after={"status": entry.status, "position": entry.position},
        **extra,
    )
