"""Price tiers of a category (early bird, normal, late) and an event's vouchers / community codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.models._types import BigId, created, pk, str20, str40, str100, str200


class PriceTier(Base):
    """One price of a category, valid until ``ends_at`` or until ``max_sold`` hold it (first wins).

    Sold is never stored: it is the number of active registrations holding this tier, counted under
    the category's row lock (core.events.pricing), so an expired or cancelled one frees its place.
    """

    __tablename__ = "price_tiers"

    id: Mapped[pk]
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("categories.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str100]
    name_en: Mapped[str100] = mapped_column(default="", server_default="")
    price: Mapped[int] = mapped_column(Integer)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    max_sold: Mapped[int | None] = mapped_column(Integer, default=None)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created]


class Voucher(Base):
    """A code giving a discount (fixed or percent) and/or a slot beyond the public quota.

    Uses are counted like tiers: active registrations holding the voucher, under its row lock.
    A voucher some registration holds cannot be deleted (the foreign key refuses), only disabled.
    """

    __tablename__ = "vouchers"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    code: Mapped[str40]  # stored upper case; matched case-insensitively
    kind: Mapped[str20] = mapped_column(default="amount")  # "amount" | "percent"
    value: Mapped[int] = mapped_column(Integer, default=0)  # rupiah off, or percent off (0-100)
    beyond_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    max_uses: Mapped[int | None] = mapped_column(Integer, default=None)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Category codes it applies to; empty means every category of the event.
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    note: Mapped[str200] = mapped_column(default="")
    batch: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[created]
