"""The verification queue: payments waiting for a verifier, oldest first, with next/previous."""

from __future__ import annotations

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from core.enums import PaymentStatus
from core.models import Payment, Registration


def _pending_payments() -> Select[tuple[Payment]]:
    return select(Payment).where(Payment.status == PaymentStatus.SUBMITTED.value)


def queue_size(session: Session) -> int:
    """Payments waiting for a verifier."""
    return int(
        session.scalar(select(func.count()).select_from(_pending_payments().subquery())) or 0
    )


def queue_item(
    session: Session, *, current: int | None = None, step: str = "next"
) -> Payment | None:
    """Return the oldest waiting payment, or the one after/before ``current`` (wrapping round)."""
    stmt = _pending_payments().options(
        joinedload(Payment.registration).joinedload(Registration.participant)
    )
    order = (Payment.submitted_at, Payment.id)
    anchor = session.get(Payment, current) if current else None
    if anchor is None:
        return session.scalars(stmt.order_by(*order).limit(1)).first()
    at, ident = anchor.submitted_at, anchor.id
    if step == "prev":
        before = or_(
            Payment.submitted_at < at, and_(Payment.submitted_at == at, Payment.id < ident)
        )
        found = session.scalars(
            stmt.where(before).order_by(Payment.submitted_at.desc(), Payment.id.desc()).limit(1)
        ).first()
        wrap = stmt.order_by(Payment.submitted_at.desc(), Payment.id.desc())
    else:
        after = or_(Payment.submitted_at > at, and_(Payment.submitted_at == at, Payment.id > ident))
        found = session.scalars(stmt.where(after).order_by(*order).limit(1)).first()
        wrap = stmt.order_by(*order)
    if found is not None:
        return found
    return session.scalars(wrap.where(Payment.id != ident).limit(1)).first()
