"""Price tiers: which price a category sells at now, and how the chat describes it.

A category has an ordered list of tiers (early bird, normal, late...). Each ends at a moment
(``ends_at``), after a number sold (``max_sold``), or whichever comes first. The current price is
the first tier not ended; with no tier left (or none defined) the category's own price applies.

"Sold" is counted, never stored: the active registrations holding the tier. Counted under the
category's row lock (intake.submit holds it), N concurrent confirmers of the last early-bird
place see the same count one after the other, so exactly one gets it. A registration that expires
or is cancelled gives its tier place back, so "the first 500" means 500 active at that price.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from core import audit
from core.enums import ACTIVE_STATUSES, values
from core.errors import NotFound, ServiceError
from core.formatting import MONTHS, rupiah
from core.i18n import t
from core.models import Category, PriceTier, Registration


@dataclass(frozen=True)
class Tier:
    """A tier as the flow sees it, with the number of active registrations holding it."""

    id: int
    name: str
    name_en: str
    price: int
    ends_at: datetime | None
    max_sold: int | None
    sold: int = 0

    def ended(self, now: datetime) -> bool:
        if self.ends_at is not None and now >= self.ends_at:
            return True
        return self.max_sold is not None and self.sold >= self.max_sold

    @property
    def left(self) -> int | None:
        return None if self.max_sold is None else max(self.max_sold - self.sold, 0)

    def label(self, language: str) -> str:
        return (self.name_en or self.name) if language == "en" else self.name


@dataclass(frozen=True)
class Quote:
    """The price a category sells at now (before any voucher) and the tier it comes from."""

    price: int
    tier: Tier | None = None


def current(base_price: int, tiers: Sequence[Tier], *, now: datetime) -> Quote:
    """The first tier not ended, else the category's own price."""
    for tier in tiers:
        if not tier.ended(now):
            return Quote(price=tier.price, tier=tier)
    return Quote(price=base_price)


# A tier's columns and its active-registration count (Core columns: the rows become Tier values,
# no ORM objects are needed). TIER_COLUMNS also serve intake's one read under the category lock.
_tier_columns = PriceTier.__table__.c
TIER_COLUMNS = (
    _tier_columns.id,
    _tier_columns.category_id,
    _tier_columns.name,
    _tier_columns.name_en,
    _tier_columns.price,
    _tier_columns.ends_at,
    _tier_columns.max_sold,
    select(func.count())
    .select_from(Registration.__table__)
    .where(
        Registration.__table__.c.price_tier_id == _tier_columns.id,
        Registration.__table__.c.status.in_(values(ACTIVE_STATUSES)),
    )
    .correlate(PriceTier.__table__)
    .scalar_subquery()
    .label("sold"),
)
TIER_ORDER = (_tier_columns.sort_order, _tier_columns.id)
# Every tier of some categories in order, with its count, in one query.
_TIERS_SOLD = (
    select(*TIER_COLUMNS)
    .where(_tier_columns.category_id.in_(bindparam("categories", expanding=True)))
    .order_by(_tier_columns.category_id, *TIER_ORDER)
)


def tiers_by_category(session: Session, category_ids: Iterable[int]) -> dict[int, tuple[Tier, ...]]:
    """Every tier of these categories in order, with its active-registration count."""
    ids = sorted(set(category_ids))
    if not ids:
        return {}
    result: dict[int, list[Tier]] = {}
    for row in session.execute(_TIERS_SOLD, {"categories": ids}):
        result.setdefault(row.category_id, []).append(tier_from_row(row))
    return {k: tuple(v) for k, v in result.items()}


def tier_from_row(row: Any) -> Tier:
    """A Tier from a row of TIER_COLUMNS."""
    return Tier(
        id=row.id,
        name=row.name,
        name_en=row.name_en or "",
        price=row.price,
        ends_at=row.ends_at,
        max_sold=row.max_sold,
        sold=int(row.sold or 0),
    )


def locked_quote(session: Session, *, category: Category, now: datetime) -> Quote:
    """The current price of a category whose row the caller has locked FOR UPDATE."""
    tiers = tiers_by_category(session, [category.id]).get(category.id, ())
    return current(category.price, tiers, now=now)


def last_day(ends_at: datetime, timezone: str) -> datetime:
    """The last local day a tier is on sale (it ends at the start of the next day, exclusive)."""
    return (ends_at - timedelta(seconds=1)).astimezone(ZoneInfo(timezone))


def short_date(moment: datetime, language: str) -> str:
    """``15 Jan`` (the chat's category list is short; the year is the race's)."""
    lang = language if language in MONTHS else "id"
    return f"{moment.day} {MONTHS[lang][moment.month - 1]}"


def describe(quote: Quote, *, language: str, timezone: str) -> str:
    """``early bird s.d. 15 Jan atau 500 pertama (sisa 12)``; empty without a tier."""
    tier = quote.tier
    if tier is None:
        return ""
    day = short_date(last_day(tier.ends_at, timezone), language) if tier.ends_at else ""
    return t(
        "pricing.tier",
        language,
        name=tier.label(language),
        date=day,
        count=tier.max_sold or 0,
        left=tier.left if tier.left is not None else -1,
    )


def price_text(quote: Quote, *, language: str, timezone: str) -> str:
    """``Rp120.000 (early bird s.d. 15 Jan atau 500 pertama)`` or just the price."""
    tier = describe(quote, language=language, timezone=timezone)
    price = rupiah(quote.price, language)
    return f"{price} ({tier})" if tier else price


# --- the organiser's tier list (admin) ---------------------------------------------------------


@dataclass(frozen=True)
class TierInput:
    """One row of the tier form; ``tier_id`` None adds a tier, ``remove`` deletes one."""

    tier_id: int | None
    name: str
    price: int | None
    name_en: str = ""
    ends_at: datetime | None = None
    max_sold: int | None = None
    remove: bool = False


class TierInvalid(ServiceError):
    key = "Invalid price tier"


def _validate(row: TierInput) -> None:
    if not row.name or len(row.name) > 100 or len(row.name_en) > 100:
        raise TierInvalid("name", key="A tier needs a name (up to 100 characters)")
    if row.price is None or row.price < 0:
        raise TierInvalid("price", key="A tier needs a price of 0 or more")
    if row.max_sold is not None and row.max_sold < 1:
        raise TierInvalid("count", key="The number sold must be at least 1 (or empty)")


def save_tiers(
    session: Session, *, category_id: int, rows: Sequence[TierInput], actor: str
) -> list[PriceTier]:
    """Update, add and remove a category's tiers in the given order (audited).

    Tiers are edited in place, never replaced, so a tier's sold count (its registrations) stays
    with it when the organiser moves its end date. A removed tier's registrations keep the price
    they locked. Locks the category row first, like a confirmation, so no confirmation counts
    against a half-saved list.
    """
    category = session.scalars(
        select(Category).where(Category.id == category_id).with_for_update()
    ).one_or_none()
    if category is None:
        raise NotFound(f"category {category_id}")
    existing = {
        t.id: t
        for t in session.scalars(select(PriceTier).where(PriceTier.category_id == category_id))
    }
    before = [_summary(t) for t in sorted(existing.values(), key=lambda t: t.sort_order)]
    kept: list[PriceTier] = []
    for row in rows:
        tier = existing.get(row.tier_id) if row.tier_id else None
        if row.tier_id and tier is None:
            raise NotFound(f"price tier {row.tier_id}")
        if row.remove:
            if tier is not None:
                session.delete(tier)
            continue
        _validate(row)
        tier = tier or PriceTier(category_id=category_id)
        tier.name, tier.name_en, tier.price = row.name, row.name_en, int(row.price or 0)
        tier.ends_at, tier.max_sold, tier.sort_order = row.ends_at, row.max_sold, len(kept)
        session.add(tier)
        kept.append(tier)
    session.flush()
    audit.record(
        session, actor=actor, action="category.tiers_saved", subject_type="category",
        subject_id=category_id, before={"tiers": before},
        after={"tiers": [_summary(t) for t in kept]},
    )  # fmt: skip
    return kept


def _summary(tier: PriceTier) -> dict[str, object]:
    ends = tier.ends_at.isoformat() if tier.ends_at else None
    return {"name": tier.name, "price": tier.price, "ends_at": ends, "max_sold": tier.max_sold}
