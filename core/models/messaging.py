"""Conversations, the transactional inbox and outbox, and message templates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.enums import OutboundStatus
from core.models._types import BigId, created, pk, str20, str40, str100


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[pk]
    channel: Mapped[str20]
    chat_id: Mapped[str100]
    state: Mapped[str40] = mapped_column(default="idle")
    answers: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    language: Mapped[str] = mapped_column(String(5), default="id")
    sender_name: Mapped[str | None] = mapped_column(String(200), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    failed_tries: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    idle_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    flood_window_start: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    flood_count: Mapped[int] = mapped_column(Integer, default=0)
    flood_warned: Mapped[bool] = mapped_column(default=False)
    # The Fonnte number (device) the runner wrote to: every message to them goes out from it.
    device: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[created]

    __mapper_args__ = {"version_id_col": version}


class InboundUpdate(Base):
    __tablename__ = "inbound_updates"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_inbound_pending", "conversation_id", "processed_at"),
    )

    id: Mapped[pk]
    channel: Mapped[str20]
    external_id: Mapped[str] = mapped_column(String(100))
    chat_id: Mapped[str100]
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE"), default=None
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    message: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    received_at: Mapped[created]
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class OutboundMessage(Base):
    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_status", "status", "next_attempt_at"),
        Index("ix_outbound_recipient", "channel", "recipient", "id"),
        Index("ix_outbound_provider_id", "channel", "provider_message_id"),
    )

    id: Mapped[pk]
    channel: Mapped[str20]
    recipient: Mapped[str100]
    conversation_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="SET NULL"), default=None
    )
    registration_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("registrations.id", ondelete="SET NULL"), default=None
    )
    kind: Mapped[str20] = mapped_column(default="reply")
    # Lower is sooner: replies to a runner who just wrote (0) beat reminders and broadcasts (5+).
    priority: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text, default="")
    media_path: Mapped[str | None] = mapped_column(String(300), default=None)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str20] = mapped_column(default=OutboundStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(100), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[created]
    # WhatsApp Cloud API statuses after acceptance: sent / delivered / read / failed (+ Meta's reason).
    delivery_status: Mapped[str | None] = mapped_column(String(20), default=None)
    delivery_error: Mapped[str | None] = mapped_column(Text, default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NotificationTemplate(Base):
    """An organiser's override of a catalogue message, per language."""

    __tablename__ = "notification_templates"
    __table_args__ = (UniqueConstraint("key", "language"),)

    id: Mapped[pk]
    key: Mapped[str100]
    language: Mapped[str] = mapped_column(String(5))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[created]


class EarlyReceipt(Base):
    """A delivery status that arrived before its message id was recorded: applied once it is."""

    __tablename__ = "early_receipts"
    __table_args__ = (Index("ix_early_receipts_message", "channel", "message_id"),)

    id: Mapped[pk]
    channel: Mapped[str20]
    message_id: Mapped[str100]
    status: Mapped[str20]
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[created]
