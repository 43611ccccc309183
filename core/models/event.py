"""Events, race categories, jersey stock, per-category sequences and payment accounts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime
from core.enums import EventStatus, UniqueCodeMode, WhatsAppProvider
from core.models._types import BigId, created, pk, str20, str40, str100, str200


class Event(Base):
    __tablename__ = "events"

    id: Mapped[pk]
    slug: Mapped[str100] = mapped_column(unique=True)
    name: Mapped[str200]
    race_date: Mapped[date] = mapped_column(Date)
    race_start_time: Mapped[str | None] = mapped_column(String(10), default=None)
    venue: Mapped[str200] = mapped_column(default="")
    timezone: Mapped[str40] = mapped_column(default="Asia/Jakarta")
    registration_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    registration_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status: Mapped[str20] = mapped_column(default=EventStatus.DRAFT.value)
    languages: Mapped[list[str]] = mapped_column(JSONType, default=lambda: ["id", "en"])
    requires_nik: Mapped[bool] = mapped_column(Boolean, default=False)
    requires_authorisation_letter: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup_info: Mapped[str] = mapped_column(Text, default="")
    # The organiser's texts in English; empty means "use the Indonesian one" (see text_for).
    venue_en: Mapped[str200] = mapped_column(default="", server_default="")
    pickup_info_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    unique_code_mode: Mapped[str20] = mapped_column(default=UniqueCodeMode.ADD.value)
    payment_deadline_hours: Mapped[int] = mapped_column(Integer, default=24)
    payment_grace_hours: Mapped[int] = mapped_column(Integer, default=6)
    reminder_hours_before: Mapped[int] = mapped_column(Integer, default=3)
    reject_grace_hours: Mapped[int] = mapped_column(Integer, default=24)
    verification_hours: Mapped[int] = mapped_column(Integer, default=24)
    # How long a freed slot offered to the next runner on the waiting list stays held for them.
    waitlist_hold_hours: Mapped[int] = mapped_column(Integer, default=12, server_default="12")
    checkin_pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[created]
    # The WhatsApp number runners of this event write to (both providers may run at once).
    whatsapp_provider: Mapped[str20] = mapped_column(
        default=WhatsAppProvider.FONNTE.value, server_default=WhatsAppProvider.FONNTE.value
    )
    # The Fonnte numbers (FONNTE_DEVICES keys, digits) that serve this event; None: all of them.
    whatsapp_numbers: Mapped[list[str] | None] = mapped_column(JSONType, default=None)

    # The terms every runner must accept (empty: no waiver step), and the age below which a parent's
    # signed consent letter is needed (None: no minors rule).
    waiver_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    waiver_text_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    waiver_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    minor_age: Mapped[int | None] = mapped_column(Integer, default=None)
    # Changes after registration: runners change their own until ``changes_until`` (None: only
    # the organiser); ``data_frozen`` (BIBs at the printer) refuses name/category/jersey changes.
    changes_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    data_frozen: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    refund_rule: Mapped[str] = mapped_column(Text, default="", server_default="")
    refund_rule_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Groups: each member's e-ticket also goes to the member's own WhatsApp/Telegram when given.
    group_tickets_to_members: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    def text_for(self, field: str, language: str) -> str:
        """``venue``, ``pickup_info`` or ``refund_rule`` in ``language``: English when written, else Indonesian."""
        if language == "en":
            return getattr(self, f"{field}_en") or getattr(self, field) or ""
        return getattr(self, field) or ""

    categories: Mapped[list[Category]] = relationship(
        back_populates="event", order_by="Category.sort_order, Category.id"
    )


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("event_id", "code"),)

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    code: Mapped[str20]
    name: Mapped[str100]
    distance_km: Mapped[float] = mapped_column(Numeric(6, 2, asdecimal=False), default=0)
    price: Mapped[int] = mapped_column(Integer)
    quota: Mapped[int] = mapped_column(Integer)
    # Slots held by active registrations; changed only under a row lock on this category.
    slots_taken: Mapped[int] = mapped_column(Integer, default=0)
    min_age: Mapped[int | None] = mapped_column(Integer, default=None)
    max_age: Mapped[int | None] = mapped_column(Integer, default=None)
    bib_start: Mapped[int] = mapped_column(Integer)
    bib_end: Mapped[int] = mapped_column(Integer)
    bib_prefix: Mapped[str20] = mapped_column(default="")
    reg_prefix: Mapped[str40]
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created]

    event: Mapped[Event] = relationship(back_populates="categories")

    @property
    def slots_left(self) -> int:
        return max(self.quota - self.slots_taken, 0)


class JerseyStock(Base):
    __tablename__ = "jersey_stock"
    __table_args__ = (UniqueConstraint("event_id", "size"),)

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    size: Mapped[str] = mapped_column(String(10))
    stock: Mapped[int] = mapped_column(Integer)
    taken: Mapped[int] = mapped_column(Integer, default=0)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)

    @property
    def left(self) -> int:
        return max(self.stock - self.taken, 0)


class Sequence(Base):
    """Next number per category and kind ('registration' or 'bib'), advanced under a row lock."""

    __tablename__ = "sequences"
    __table_args__ = (UniqueConstraint("category_id", "kind"),)

    id: Mapped[pk]
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id", ondelete="CASCADE"))
    kind: Mapped[str20]
    next_value: Mapped[int] = mapped_column(Integer)


class CatalogVersion(Base):
    """One row whose ``version`` changes with every change to what the chat catalogue is built from.

    Kept by PostgreSQL triggers (migration 0904) on events, categories and jersey sizes (not their
    counters), price tiers, questions and vouchers: core.events.catalog reuses its built catalogue
    while the version it reads is the one it built at. The value (the writing transaction's id and
    the clock) never repeats, even in a rolled-back transaction or after a test's sequence reset;
    no row (a truncated table) means no reuse.
    """

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[str] = mapped_column(String(60))
