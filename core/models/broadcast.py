"""Broadcasts to a segment of runners, their recipients, and the chats that said STOP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models._types import BigId, created, pk, str20, str40, str100, str200


class Broadcast(Base):
    """One message an organiser sent to a segment; its recipients are written in batches."""

    __tablename__ = "broadcasts"

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    segment: Mapped[str40]
    # The segment's parameter: a category id, a question and its answer, ... (empty when none).
    segment_arg: Mapped[str200] = mapped_column(default="")
    text: Mapped[str] = mapped_column(Text)
    image_path: Mapped[str | None] = mapped_column(String(300), default=None)
    status: Mapped[str20] = mapped_column(default="writing")
    # The last registration id written: the batch job resumes after it.
    cursor: Mapped[int] = mapped_column(Integer, default=0)
    written: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str200]
    created_at: Mapped[created]
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The last batch written: a "writing" broadcast quiet for a while lost its job (resumed).
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class BroadcastRecipient(Base):
    """One chat a broadcast went to (or skipped, because it said STOP); one per chat."""

    __tablename__ = "broadcast_recipients"
    __table_args__ = (UniqueConstraint("broadcast_id", "channel", "chat_id"),)

    id: Mapped[pk]
    broadcast_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    registration_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("registrations.id", ondelete="SET NULL"), default=None
    )
    channel: Mapped[str20]
    chat_id: Mapped[str100]
    outbound_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("outbound_messages.id", ondelete="SET NULL"), default=None
    )
    skipped: Mapped[str | None] = mapped_column(String(20), default=None)  # "stopped"
    created_at: Mapped[created]


class BroadcastOptOut(Base):
    """A chat (and its phone, when known) that replied STOP: no broadcasts until START."""

    __tablename__ = "broadcast_optouts"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[pk]
    channel: Mapped[str20]
    chat_id: Mapped[str100]
    phone: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    created_at: Mapped[created]
