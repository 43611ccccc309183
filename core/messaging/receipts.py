"""Delivery statuses from the WhatsApp Cloud API: sent / delivered / read / failed per outbox row."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.db import advisory_xact_lock, lock_key
from core.enums import Channel, OutboundStatus
from core.messaging import outbox
from core.models import EarlyReceipt, OutboundMessage

# Statuses arrive out of order (read before delivered): only move forward; failed always wins.
RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}
OUTSIDE_WINDOW = "131047"


def apply_status(
    session: Session, *, message_id: str, status: str, at: datetime, error: str | None = None
) -> OutboundMessage | None:
    """Record one status on the row Meta's ``message_id`` belongs to; None when not (yet) known.

    A status can overtake the commit of the message id it names (Meta answers the send, then
    reports "sent" before our worker committed that answer): it is parked in early_receipts and
    applied by apply_parked() when the id is recorded. The id's advisory lock orders the two.
    A ``failed`` 131047 (the window closed before Meta delivered) puts the row back in the queue
    with ``force_template``: it goes out as its template, or waits for the runner.
    """
    advisory_xact_lock(session, lock_key("receipt", message_id))
    row = _row(session, message_id)
    if row is None:
        session.add(
            EarlyReceipt(
                channel=Channel.WHATSAPP_CLOUD.value,
                message_id=message_id,
                status=status,
                at=at,
                error=error,
            )
        )
        return None
    return _apply(session, row, status, at, error)


def apply_parked(session: Session, *, message_id: str) -> OutboundMessage | None:
    """Apply the statuses parked for ``message_id`` (call in the transaction recording that id)."""
    advisory_xact_lock(session, lock_key("receipt", message_id))
    parked = list(
        session.scalars(
            select(EarlyReceipt)
            .where(
                EarlyReceipt.channel == Channel.WHATSAPP_CLOUD.value,
                EarlyReceipt.message_id == message_id,
            )
            .order_by(EarlyReceipt.id)
        )
    )
    row = _row(session, message_id) if parked else None
    if row is None:
        return None
    for receipt in parked:
        _apply(session, row, receipt.status, receipt.at, receipt.error)
    session.execute(delete(EarlyReceipt).where(EarlyReceipt.id.in_([r.id for r in parked])))
    return row


def _row(session: Session, message_id: str) -> OutboundMessage | None:
    return session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.channel == Channel.WHATSAPP_CLOUD.value,
            OutboundMessage.provider_message_id == message_id,
        )
        .with_for_update()
    ).one_or_none()


def _apply(
    session: Session, row: OutboundMessage, status: str, at: datetime, error: str | None
) -> OutboundMessage:
    if RANK.get(status, 0) <= RANK.get(row.delivery_status or "", 0):
        return row
    row.delivery_status = status
    if status in ("delivered", "read") and row.delivered_at is None:
        row.delivered_at = at
    if status == "failed":
        row.delivery_error = (error or "failed")[:1000]
        _failed(session, row, at)
    return row


def _failed(session: Session, row: OutboundMessage, at: datetime) -> None:
    if (row.delivery_error or "").startswith(OUTSIDE_WINDOW) and not row.extra.get("template"):
        row.status = OutboundStatus.PENDING.value
        row.extra = {**row.extra, "force_template": True}
        row.provider_message_id = None
        row.delivery_status = None
        row.next_attempt_at = None
        return
    outbox.record_failure(session, row, error=row.delivery_error or "", now=at)
