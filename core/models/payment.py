"""Payments: accounts that receive transfers, proof photos, payment rows and bank statement lines."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, JSONType, UTCDateTime
from core.enums import PaymentStatus
from core.models._types import BigId, created, pk, str20, str40, str100, str200

if TYPE_CHECKING:  # relationships resolve by name at run time
    from core.models.registration import Registration


class PaymentAccount(Base):
    """A bank account, e-wallet or QRIS that runners may pay into (the payment settings)."""

    __tablename__ = "payment_accounts"

    id: Mapped[pk]
    event_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), default=None
    )
    kind: Mapped[str20] = mapped_column(default="bank")
    bank_name: Mapped[str100]
    account_number: Mapped[str40] = mapped_column(default="")
    holder_name: Mapped[str200] = mapped_column(default="")
    qris_image_path: Mapped[str | None] = mapped_column(String(300), default=None)
    statement_mapping: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[created]


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
