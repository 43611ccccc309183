"""What OCR read on each payment screenshot, verifiers' corrections, and the per-event OCR setting."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.models._types import BigId, created, pk, str20


class ScreenshotReading(Base):
    """One OCR pass over one stored payment image (at most one per image)."""

    __tablename__ = "screenshot_readings"

    id: Mapped[pk]
    image_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payment_images.id", ondelete="CASCADE"), unique=True
    )
    payment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payments.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str20]  # read, unreadable, failed, timeout
    engine: Mapped[str20] = mapped_column(default="")
    elapsed_ms: Mapped[int] = mapped_column(Integer, default=0)
    amount: Mapped[int | None] = mapped_column(Integer, default=None)
    reference: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    account: Mapped[str | None] = mapped_column(String(40), default=None)
    # Every extracted field ({"amount": 175408, "when": "2026-11-28T14:00", ...}) and where it was
    # read ({"amount": [x0, y0, x1, y1]}, stored-image pixels), for the queue's highlights.
    fields: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    boxes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    text: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[created]


class ScreenshotCorrection(Base):
    """A verifier's fix of a misread field (counted per field on the operations page)."""

    __tablename__ = "screenshot_corrections"

    id: Mapped[pk]
    reading_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("screenshot_readings.id", ondelete="CASCADE"), index=True
    )
    field: Mapped[str20]
    read_value: Mapped[str | None] = mapped_column(String(200), default=None)
    corrected_value: Mapped[str] = mapped_column(String(200))
    actor_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("admin_users.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[created]


class EventOcrSetting(Base):
    """Per-event OCR options; no row means the defaults (auto-approve off)."""

    __tablename__ = "event_ocr_settings"

    event_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    auto_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    # Auto-approvals are made in the name of the admin who turned the setting on (audited).
    enabled_by_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("admin_users.id", ondelete="SET NULL"), default=None
    )
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
