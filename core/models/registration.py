"""Participants, registrations, payments and their images, bank statement lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime
from core.enums import RegistrationStatus
from core.models._types import BigId, created, pk, str20, str40, str100, str200
from core.models.event import Category, Event

if TYPE_CHECKING:  # relationships resolve by name at run time
    from core.models.payment import Payment


class Participant(Base):
    __tablename__ = "participants"

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    full_name: Mapped[str200]
    gender: Mapped[str | None] = mapped_column(String(1), default=None)
    date_of_birth: Mapped[date | None] = mapped_column(Date, default=None)
    email: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    phone: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    nik: Mapped[str | None] = mapped_column(String(16), default=None, index=True)
    jersey_size: Mapped[str | None] = mapped_column(String(10), default=None)
    emergency_name: Mapped[str | None] = mapped_column(String(200), default=None)
    emergency_phone: Mapped[str | None] = mapped_column(String(20), default=None)
    blood_type: Mapped[str | None] = mapped_column(String(10), default=None)
    medical_notes: Mapped[str | None] = mapped_column(Text, default=None)
    club: Mapped[str | None] = mapped_column(String(200), default=None)
    # Every flow answer as given, so new questions reach exports without a schema change.
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[created]


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "bib"),
        # amount_key = what is owed while payment is awaited (amount_due; for a category change
        # of a paid registration, the difference), NULL otherwise: the "kode unik" guarantee.
        UniqueConstraint("event_id", "amount_key"),
        Index("ix_registrations_status_deadline", "status", "expires_at"),
        Index("ix_registrations_chat", "channel", "chat_id"),
    )

    id: Mapped[pk]
    number: Mapped[str40] = mapped_column(unique=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"))
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id"))
    participant_id: Mapped[int] = mapped_column(BigId, ForeignKey("participants.id"))
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(
        String(30), default=RegistrationStatus.PENDING_PAYMENT.value, index=True
    )
    channel: Mapped[str20]
    chat_id: Mapped[str100]
    language: Mapped[str] = mapped_column(String(5), default="id")
    price: Mapped[int] = mapped_column(Integer)
    unique_code: Mapped[int] = mapped_column(Integer, default=0)
    amount_due: Mapped[int] = mapped_column(Integer)
    amount_key: Mapped[int | None] = mapped_column(Integer, default=None)
    # The price locked at confirmation: the tier it came from and a voucher's discount (price is
    # already net of it). A voucher held here cannot be deleted.
    price_tier_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("price_tiers.id", ondelete="SET NULL"), default=None, index=True
    )
    voucher_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("vouchers.id"), default=None, index=True
    )
    discount: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Came in on a voucher's slot beyond the public quota: took no public slot, gives none back.
    outside_quota: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A category change to a cheaper one after paying: what the organiser owes back (noted only).
    refund_owed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    amount_received: Mapped[int | None] = mapped_column(Integer, default=None)
    payment_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    bib: Mapped[str | None] = mapped_column(String(20), default=None)
    bib_number: Mapped[int | None] = mapped_column(Integer, default=None)
    ticket_token: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    ticket_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ticket_version: Mapped[int] = mapped_column(Integer, default=0)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    waiver_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # A member of a group registered and paid together by one leader (core.registration.groups).
    group_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("registration_groups.id", ondelete="SET NULL"), default=None, index=True
    )
    created_at: Mapped[created]

    event: Mapped[Event] = relationship()
    category: Mapped[Category] = relationship()
    participant: Mapped[Participant] = relationship()
    payments: Mapped[list[Payment]] = relationship(
        back_populates="registration", order_by="Payment.id"
    )
