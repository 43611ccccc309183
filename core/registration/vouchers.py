"""Vouchers and community codes: check a code, redeem it at confirmation, manage them in the admin.

A voucher gives a fixed (``amount``) or ``percent`` discount, and may carry a place beyond the
public quota (sponsors, clubs, comps). Uses are counted, never stored: the active registrations
holding the voucher, counted under the voucher's row lock, so concurrent redeemers of the last
use see the count one after the other and an expired registration gives its use back.

Lives in registration (not payments) because it is redeemed while the registration is created,
under the category lock, and decides whether a full category may still take the runner; payments
only ever see the net price.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from core.enums import ACTIVE_STATUSES, values
from core.errors import ServiceError
from core.models import Registration, Voucher

KINDS = ("amount", "percent")


class VoucherRefused(ServiceError):
    """The code cannot be used; ``reason`` picks the runner's text (pricing.refused.<reason>)."""

    key = "pricing.refused.unknown"


@dataclass(frozen=True)
class Applied:
    """A voucher as it applies to one price."""

    voucher_id: int
    code: str
    discount: int
    beyond_quota: bool
    kind: str = "amount"
    value: int = 0


def normalise(code: str | None) -> str:
    """``abc 123`` -> ``ABC123``: case and spaces do not matter."""
    return "".join((code or "").split()).upper()


def find(session: Session, *, event_id: int, code: str, lock: bool = False) -> Voucher | None:
    stmt = select(Voucher).where(Voucher.event_id == event_id, Voucher.code == normalise(code))
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.scalars(stmt).one_or_none()


def uses(session: Session, voucher_id: int) -> int:
    """Active registrations holding the voucher."""
    return int(
        session.scalar(
            select(func.count()).where(
                Registration.voucher_id == voucher_id,
                Registration.status.in_(values(ACTIVE_STATUSES)),
            )
        )
        or 0
    )


def discount_of(voucher: Voucher, price: int) -> int:
    """Rupiah off ``price`` (never more than the price; percent rounds down to whole rupiah)."""
    if voucher.kind == "percent":
        off = price * min(max(voucher.value, 0), 100) // 100
    else:
        off = max(voucher.value, 0)
    return min(off, price)


def _refuse(reason: str, code: str) -> VoucherRefused:
    return VoucherRefused(f"voucher {reason}", key=f"pricing.refused.{reason}", code=code)


def check(voucher: Voucher | None, *, code: str, category: str | None, now: datetime) -> Voucher:
    """Raise VoucherRefused unless the voucher may be used now for ``category`` (uses aside)."""
    if voucher is None or not voucher.active:
        raise _refuse("unknown", code)
    if voucher.valid_from and now < voucher.valid_from:
        raise _refuse("not_yet", code)
    if voucher.valid_until and now >= voucher.valid_until:
        raise _refuse("expired", code)
    allowed = [c.lower() for c in voucher.categories or []]
    if category and allowed and category.lower() not in allowed:
        raise _refuse("category", code)
    return voucher


def preview(
    session: Session, *, event_id: int, code: str, category: str | None, price: int, now: datetime
) -> Applied:
    """What the code would give now (no lock: the chat's check; redeem() decides)."""
    voucher = check(
        find(session, event_id=event_id, code=code), code=code, category=category, now=now
    )
    if voucher.max_uses is not None and uses(session, voucher.id) >= voucher.max_uses:
        raise _refuse("used_up", code)
    return _applied(voucher, price)


def redeem(
    session: Session, *, event_id: int, code: str, category: str, price: int, now: datetime
) -> Applied:
    """Lock the voucher and check it, its uses included; the caller then stores voucher_id.

    Call with the category row locked (lock order: category, voucher, jersey stock).
    """
    voucher = find(session, event_id=event_id, code=code, lock=True)
    check(voucher, code=code, category=category, now=now)
    assert voucher is not None
    if voucher.max_uses is not None and uses(session, voucher.id) >= voucher.max_uses:
        raise _refuse("used_up", code)
    return _applied(voucher, price)


def _applied(voucher: Voucher, price: int) -> Applied:
    return Applied(
        voucher.id,
        voucher.code,
        discount_of(voucher, price),
        voucher.beyond_quota,
        kind=voucher.kind,
        value=voucher.value,
    )


def usage(session: Session, *, event_id: int) -> dict[int, int]:
    """Active uses per voucher id of one event (vouchers never used are left out)."""
    rows = session.execute(
        select(Registration.voucher_id, func.count())
        .where(
            Registration.event_id == event_id,
            Registration.voucher_id.is_not(None),
            Registration.status.in_(values(ACTIVE_STATUSES)),
        )
        .group_by(Registration.voucher_id)
    )
    return {int(voucher_id): int(count) for voucher_id, count in rows.all()}


def redeemed(session: Session, voucher_id: int) -> bool:
    """Whether any registration (in any status) ever held the voucher."""
    return bool(session.scalar(select(exists().where(Registration.voucher_id == voucher_id))))


def has_active(session: Session, *, event_id: int) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Voucher.event_id == event_id, Voucher.active.is_(True)))
        )
    )
