"""Race-pack pickup: check-ins, every scan attempt, and the desks that scan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models._types import BigId, created, pk, str20, str40, str100


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
