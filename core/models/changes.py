"""Changes after registration: ticket tokens revoked by a transfer, kept so check-in can say why."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models._types import BigId, pk, str20


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
