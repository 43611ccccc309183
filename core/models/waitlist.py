"""The waiting list: runners waiting for a slot (or a jersey size) of a sold-out category."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.models._types import BigId, created, pk, str20, str100


class WaitlistStatus(StrEnum):
    WAITING = "waiting"  # in the queue
    OFFERED = "offered"  # a slot is held for them until hold_until
    ACCEPTED = "accepted"  # said YA; the slot stays held until they confirm or hold_until
    REGISTERED = "registered"  # confirmed: the held slot became their registration's slot
    LAPSED = "lapsed"  # the hold ran out; the slot went to the next runner
    SKIPPED = "skipped"  # passed over by an organiser
    LEFT = "left"  # the runner left the list


# An entry holding a slot (and possibly a jersey) of its category.
HOLDING = (WaitlistStatus.OFFERED.value, WaitlistStatus.ACCEPTED.value)
# Entries still in the list (shown with a position to the runner).
LIVE = (WaitlistStatus.WAITING.value, *HOLDING)


class WaitlistEntry(Base):
    """One runner waiting for ``category`` (and ``jersey_size`` when that size is what ran out).

    ``answers`` are the draft's answers when they joined, given back when they accept an offer.
    An offered entry holds one slot of its category (counted in ``slots_taken``) and, when it
    waits for a size, one jersey of ``held_jersey``, so nobody else can buy them meanwhile.
    """

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        Index("ix_waitlist_entries_queue", "category_id", "status", "position"),
        Index("ix_waitlist_entries_chat", "channel", "chat_id"),
        Index("ix_waitlist_entries_hold", "status", "hold_until"),
    )

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int] = mapped_column(BigId, ForeignKey("categories.id", ondelete="CASCADE"))
    jersey_size: Mapped[str | None] = mapped_column(String(10), default=None)
    channel: Mapped[str20]
    chat_id: Mapped[str100]
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    language: Mapped[str] = mapped_column(String(5), default="id")
    name: Mapped[str] = mapped_column(String(200), default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Order in the queue (lowest first); the admin reorders by swapping positions.
    position: Mapped[int] = mapped_column(Integer)
    status: Mapped[str20] = mapped_column(default=WaitlistStatus.WAITING.value)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    held_jersey: Mapped[str | None] = mapped_column(String(10), default=None)
    registration_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("registrations.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[created]
