"""Changes after registration: ticket tokens revoked by a transfer (kept so check-in can say why),
and refunds owed to runners (a cancellation, a cheaper category, an overpayment)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UTCDateTime
from core.models._types import BigId, created, pk, str20
from core.models.registration import Registration


class RevokedTicket(Base):
    """A ticket token that no longer admits anyone (the registration went to another person)."""

    __tablename__ = "revoked_tickets"

    id: Mapped[pk]
    registration_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str20]
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Refund(Base):
    """Money the organiser owes a runner back, until someone marks it refunded.

    ``amount`` is what is owed; ``refunded_amount`` what was sent (the event's refund rule may
    give back less than was paid). ``reason``: cancellation, downgrade (cheaper category),
    overpaid. Status: owed, refunded, waived (nothing due under the event's rule).
    """

    __tablename__ = "refunds"

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    registration_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str20]
    status: Mapped[str] = mapped_column(String(20), default="owed", index=True)
    refunded_amount: Mapped[int | None] = mapped_column(Integer, default=None)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    refunded_by: Mapped[str | None] = mapped_column(String(200), default=None)
    reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[created]

    registration: Mapped[Registration] = relationship()
