"""Slots and jersey stock: every take and release, under one locking style and one lock order.

Lock order (keep it everywhere that changes these rows): the registration, the category's advisory
turn lock, the category rows (by id), then jersey stock rows (by id). Every row is locked with
SELECT ... FOR UPDATE and refreshed (populate_existing): the flow's catalog snapshot or an earlier
read may have put the row in the identity map, and a stale count would sell a slot twice. Counts
are then changed in Python on the locked rows and never drop below zero. One exception, the hot
path of a confirmation: take_jersey takes a jersey with one conditional UPDATE ... RETURNING (the
row lock and the count in one statement) and brings a loaded row up to date.

The statements of a confirmation are built once, at import, with bound parameters: building and
hashing a statement per call costs more Python time than the round trip it makes.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, true, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from core.db import advisory_xact_lock, is_postgres, lock_key, utcnow
from core.errors import NotFound, SoldOut
from core.models import Category, JerseyStock, Registration


def lock_registration(session: Session, registration_id: int) -> Registration:
    """SELECT the registration FOR UPDATE and refresh it (the first lock of every change)."""
    registration = session.scalars(
        select(Registration)
        .where(Registration.id == registration_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if registration is None:
        raise NotFound(f"registration {registration_id}")
    return registration


def category_turn_key(event_id: int, code: str) -> int:
    """The advisory lock key submissions of one category wait on."""
    return lock_key("cat", event_id, code.lower())


def lock_category_turn(session: Session, *, event_id: int, code: str) -> None:
    """Wait in arrival order for the category (an advisory lock, held until commit).

    PostgreSQL grants advisory-lock waiters in arrival order but row-lock waiters in no particular
    order, so in a sell-out rush submissions wait here and then find the row locks free.
    """
    advisory_xact_lock(session, category_turn_key(event_id, code))


_LOCK_CATEGORY = (
    select(Category)
    .where(Category.event_id == bindparam("event"), func.lower(Category.code) == bindparam("code"))
    .with_for_update(of=Category)
    .execution_options(populate_existing=True)
)
# PostgreSQL: the turn lock in the same statement, one round trip less under the lock. The row
# lock is taken above the join, so after the turn lock; and a row another confirmation changed
# meanwhile is returned as it is now (FOR UPDATE re-reads it), as a separate SELECT would.
_TURN = select(func.pg_advisory_xact_lock(bindparam("turn"))).cte("turn")
_LOCK_CATEGORY_IN_TURN = _LOCK_CATEGORY.join(_TURN, true())


def lock_category(session: Session, *, event_id: int, code: str, turn: bool = False) -> Category:
    """SELECT the category FOR UPDATE by its code (slots are counted under this lock).

    ``turn``: wait for the category's turn lock first (lock_category_turn), in the same statement.
    """
    params: dict[str, object] = {"event": event_id, "code": code.lower()}
    stmt = _LOCK_CATEGORY
    if turn and is_postgres(session):
        stmt, params["turn"] = _LOCK_CATEGORY_IN_TURN, category_turn_key(event_id, code)
    category = session.scalars(stmt, params).one_or_none()
    if category is None:
        raise NotFound(f"category {code}", key="error.not_found")
    return category


def lock_categories(session: Session, ids: set[int]) -> dict[int, Category]:
    """SELECT categories FOR UPDATE in id order; return them by id (missing ids left out)."""
    rows = session.scalars(
        select(Category)
        .where(Category.id.in_(sorted(ids)))
        .order_by(Category.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.id: row for row in rows}


def lock_jerseys(session: Session, *, event_id: int, sizes: set[str]) -> dict[str, JerseyStock]:
    """SELECT the event's stock rows of ``sizes`` FOR UPDATE in id order; return them by size."""
    rows = session.scalars(
        select(JerseyStock)
        .where(JerseyStock.event_id == event_id, JerseyStock.size.in_(sorted(sizes)))
        .order_by(JerseyStock.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {row.size: row for row in rows}


def take_slot(category: Category, *, key: str = "error.sold_out") -> None:
    """Take one slot of a locked category; raise SoldOut (``kind="category"``) when none is left."""
    if category.slots_left <= 0:
        raise SoldOut(
            f"category {category.code} full", key=key, kind="category", code=category.code
        )
    category.slots_taken += 1


_categories = Category.__table__.c
_TAKE_SLOT = (
    update(Category.__table__)
    .where(_categories.id == bindparam("category"))
    .values(slots_taken=_categories.slots_taken + 1)
    .returning(_categories.slots_taken)
)


def take_slot_now(session: Session, category: Category) -> None:
    """take_slot, written at once with one cached UPDATE (no flush of the category object)."""
    if category.slots_left <= 0:
        take_slot(category)  # raises SoldOut
    taken = session.scalar(_TAKE_SLOT, {"category": category.id})
    set_committed_value(category, "slots_taken", taken)


def take_place(session: Session, category: Category, size: str) -> None:
    """A slot of the locked category and a jersey of ``size``; raise SoldOut (category first).

    PostgreSQL: one statement, the jersey's conditional UPDATE as a CTE the category's UPDATE
    joins, so a jersey sold out leaves the category untouched (no row comes back).
    """
    if category.slots_left <= 0:
        take_slot(category)  # raises SoldOut
    if not is_postgres(session):
        take_jersey(session, event_id=category.event_id, size=size)
        take_slot_now(session, category)
        return
    params = {"event": category.event_id, "jersey": size, "category": category.id}
    row = session.execute(_TAKE_PLACE, params).first()
    if row is None:
        raise SoldOut(f"jersey {size} sold out", key="error.sold_out", kind="jersey", size=size)
    set_committed_value(category, "slots_taken", row.slots_taken)
    _sync_jersey(session, row.jersey_id, row.jersey_taken)


def give_back_slot(category: Category) -> None:
    """Return one slot of a locked category (never below zero)."""
    category.slots_taken = max((category.slots_taken or 0) - 1, 0)


_stock = JerseyStock.__table__.c
_ONE_JERSEY = (
    update(JerseyStock.__table__)
    .where(
        _stock.event_id == bindparam("event"),
        _stock.size == bindparam("jersey"),
        _stock.taken < _stock.stock,
    )
    .values(taken=_stock.taken + 1)
)
_TAKE_JERSEY = _ONE_JERSEY.returning(_stock.id, _stock.taken)


def take_jersey(
    session: Session, *, event_id: int, size: str | None, key: str = "error.sold_out"
) -> str | None:
    """Take one jersey of ``size`` (None: no jersey); raise SoldOut (``kind="jersey"``).

    One UPDATE ... RETURNING locks the row and takes the jersey only while one is left; a row
    already in the session (the catalog's) gets the new count, as a re-read would give it.
    """
    if not size:
        return None
    taken = session.execute(_TAKE_JERSEY, {"event": event_id, "jersey": size}).first()
    if taken is None:
        raise SoldOut(f"jersey {size} sold out", key=key, kind="jersey", size=size)
    _sync_jersey(session, taken.id, taken.taken)
    return size


def _sync_jersey(session: Session, row_id: int, taken: int) -> None:
    """A stock row loaded in the session gets the count just written (no history, no flush)."""
    loaded = session.identity_map.get(identity_key(JerseyStock, row_id))
    if loaded is not None:
        set_committed_value(loaded, "taken", taken)


_JERSEY = _ONE_JERSEY.returning(_stock.id, _stock.taken, _stock.event_id).cte("jersey")
_TAKE_PLACE = (
    update(Category.__table__)
    .where(_categories.id == bindparam("category"), _categories.event_id == _JERSEY.c.event_id)
    .values(slots_taken=_categories.slots_taken + 1)
    .returning(
        _categories.slots_taken,
        _JERSEY.c.id.label("jersey_id"),
        _JERSEY.c.taken.label("jersey_taken"),
    )
)


def move_jersey(
    session: Session, *, event_id: int, old: str | None, new: str | None, key: str
) -> None:
    """Swap a held jersey for another size: both rows locked together, the new one must be left."""
    rows = lock_jerseys(session, event_id=event_id, sizes={s for s in (old, new) if s})
    if new:
        _take(rows.get(new), new, key)
    if old and old in rows:
        _give_back(rows[old])


def release(session: Session, registration: Registration) -> None:
    """Give back the slot and the jersey a registration holds (call once, when it stops holding)."""
    category = lock_categories(session, {registration.category_id}).get(registration.category_id)
    if category is not None and not registration.outside_quota:  # a voucher's extra place
        give_back_slot(category)
    size = registration.participant.jersey_size
    row = None
    if size:
        row = lock_jerseys(session, event_id=registration.event_id, sizes={size}).get(size)
        if row is not None:
            _give_back(row)
    if category is not None:
        # The freed place goes to the next runner on the waiting list, under these same locks.
        from core.registration import waitlist  # noqa: PLC0415  (waitlist builds on this module)

        waitlist.offer_freed(session, category, jersey=row, now=utcnow())


def _take(row: JerseyStock | None, size: str, key: str) -> None:
    if row is None or row.left <= 0:
        raise SoldOut(f"jersey {size} sold out", key=key, kind="jersey", size=size)
    row.taken += 1


def _give_back(row: JerseyStock) -> None:
    row.taken = max((row.taken or 0) - 1, 0)
