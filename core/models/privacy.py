"""Personal data: each event's retention and privacy notice, and runners' deletion requests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models._types import BigId, created, pk, str20, str100

DEFAULT_RETENTION_DAYS = 90


class EventPrivacy(Base):
    """An event's personal-data settings; an event without a row uses the defaults.

    A table of its own rather than columns on ``events``: nothing else reads it, and the event
    forms stay as they are.
    """

    __tablename__ = "event_privacy"

    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    # Days after race day until photos, letters, NIK and medical notes are removed.
    retention_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_RETENTION_DAYS)
    notice: Mapped[str] = mapped_column(Text, default="")  # Indonesian; empty: the standard text
    notice_en: Mapped[str] = mapped_column(Text, default="")  # English; empty: the standard text
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class DeletionRequest(Base):
    """A runner's HAPUS DATA / DELETE MY DATA, for an admin to honour or decline."""

    __tablename__ = "deletion_requests"

    id: Mapped[pk]
    channel: Mapped[str20]
    chat_id: Mapped[str100]
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    language: Mapped[str] = mapped_column(String(5), default="id")
    status: Mapped[str20] = mapped_column(default="pending", index=True)
    decided_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("admin_users.id"), default=None
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[created]
