"""Registration groups: a leader registers several runners in one chat and pays them in one transfer."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.models._types import BigId, created, pk, str20, str100


class RegistrationGroup(Base):
    """One leader's group; its members are the registrations whose ``group_id`` points here.

    ``amount_due`` is the combined amount (every member's price plus ONE unique code, carried by
    the first member's ``amount_due`` so the photo-group total equals it). ``amount_key`` is that
    total while the group awaits payment: single and group amounts are picked under the same
    per-event lock and never collide (core.payments.amounts). No unique constraint: a group whose
    members are all paid or expired frees its key without an update.
    """

    __tablename__ = "registration_groups"
    __table_args__ = (
        Index("ix_registration_groups_chat", "channel", "chat_id"),
        Index("ix_registration_groups_amount", "event_id", "amount_key"),
    )

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(BigId, ForeignKey("events.id", ondelete="CASCADE"))
    channel: Mapped[str20]
    chat_id: Mapped[str100]
    leader_name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="id")
    unique_code: Mapped[int] = mapped_column(Integer, default=0)
    amount_due: Mapped[int] = mapped_column(Integer, default=0)
    amount_key: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[created]
