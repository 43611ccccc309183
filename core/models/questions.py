"""Organiser-defined questions per event, and the parental consent letters of minors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.models._types import BigId, created, pk, str20, str200


class EventQuestion(Base):
    """One custom question; the answer lands in Participant.answers under ``key`` ("q<id>")."""

    __tablename__ = "event_questions"

    id: Mapped[pk]
    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str20]  # core.enums.QuestionKind
    label: Mapped[str200]
    label_en: Mapped[str200] = mapped_column(default="")
    # [{"id": "Ya", "en": "Yes"}, ...] for choice questions; the Indonesian text is the stored value.
    options: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    # Category codes the question is asked for; empty means every category.
    category_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    show_at_checkin: Mapped[bool] = mapped_column(Boolean, default=False)
    example: Mapped[str200] = mapped_column(default="")
    created_at: Mapped[created]

    @property
    def key(self) -> str:
        return f"q{self.id}"


class ConsentLetter(Base):
    """A photo of a signed parental consent letter; a new row for each photo the runner sends."""

    __tablename__ = "consent_letters"

    id: Mapped[pk]
    registration_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(300))  # MEDIA_DIR-relative, never served publicly
    status: Mapped[str20]  # core.enums.LetterStatus
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    received_at: Mapped[created]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "note": self.note}
