"""Participants, registrations, payments and their images, bank statement lines."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime
from core.enums import PaymentStatus, RegistrationStatus
from core.models._types import BigId, created, pk, str20, str40, str100, str200
from core.models.event import Category, Event


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
        # amount_key = amount_due while payment is awaited, NULL otherwise: the "kode unik" guarantee.
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
    created_at: Mapped[created]

    event: Mapped[Event] = relationship()
    category: Mapped[Category] = relationship()
    participant: Mapped[Participant] = relationship()
    payments: Mapped[list[Payment]] = relationship(
        back_populates="registration", order_by="Payment.id"
    )


class Payment(Base):
    """A runner's claim of payment: one or more screenshots, or a bank statement line."""

    __tablename__ = "payments"

    id: Mapped[pk]
    registration_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str20] = mapped_column(default=PaymentStatus.SUBMITTED.value, index=True)
    source: Mapped[str20] = mapped_column(default="photo")
    image_path: Mapped[str | None] = mapped_column(String(300), default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    phash: Mapped[str | None] = mapped_column(String(32), default=None)
    provider_file_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # Warnings for the verifier, e.g. {"duplicate_of": [12, 40]}.
    flags: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    amount_received: Mapped[int | None] = mapped_column(Integer, default=None)
    reject_reason: Mapped[str | None] = mapped_column(Text, default=None)
    verified_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("admin_users.id"), default=None
    )
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    submitted_at: Mapped[created]
    created_at: Mapped[created]

    registration: Mapped[Registration] = relationship(back_populates="payments")
    images: Mapped[list[PaymentImage]] = relationship(
        back_populates="payment", order_by="PaymentImage.id"
    )


class PaymentImage(Base):
    """One screenshot kept privately under MEDIA_DIR (re-encoded, EXIF stripped, random name)."""

    __tablename__ = "payment_images"

    id: Mapped[pk]
    payment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    phash: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    provider_file_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created]

    payment: Mapped[Payment] = relationship(back_populates="images")


class StatementLine(Base):
    """A credit from an uploaded bank mutation export; never matched twice."""

    __tablename__ = "statement_lines"
    __table_args__ = (UniqueConstraint("account_id", "reference", "amount"),)

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("payment_accounts.id"))
    reference: Mapped[str200]
    amount: Mapped[int] = mapped_column(Integer)
    posted_at: Mapped[str40] = mapped_column(default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str20] = mapped_column(default="unmatched")
    registration_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("registrations.id"), default=None, unique=True
    )
    created_at: Mapped[created]


class CheckIn(Base):
    """A race-pack pickup; one per registration, enforced by the database."""

    __tablename__ = "checkins"

    id: Mapped[pk]
    registration_id: Mapped[int] = mapped_column(BigId, ForeignKey("registrations.id"), unique=True)
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id"))
    desk: Mapped[str100] = mapped_column(default="")
    staff_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("admin_users.id"), default=None)
    nonce: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    representative_name: Mapped[str | None] = mapped_column(String(200), default=None)
    authorisation_letter_path: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[created]


class ScanLog(Base):
    """Every scan at a check-in desk, accepted or refused, with its reason."""

    __tablename__ = "scan_logs"

    id: Mapped[pk]
    event_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.id"), default=None)
    registration_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("registrations.id"), default=None
    )
    desk: Mapped[str100] = mapped_column(default="")
    nonce: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    code_hint: Mapped[str40] = mapped_column(default="")
    result: Mapped[str20]
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[created]


class CheckinDesk(Base):
    """A device opened with the event PIN; its token is revocable."""

    __tablename__ = "checkin_desks"

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    name: Mapped[str100]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[created]
