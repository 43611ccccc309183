"""Organiser use cases for vouchers: create one, generate a batch, disable, delete, list, export.

Every change is audited. A voucher some registration has held (in any status) is never deleted:
the money trail points at it; it can only be disabled, which stops new redemptions.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound, ServiceError
from core.models import Category, Voucher
from core.registration import vouchers

MAX_BATCH = 5000
CODE_CHARS = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: codes are read off paper
RANDOM_LENGTH = 6


class VoucherInvalid(ServiceError):
    """The organiser's input does not make a voucher; ``key`` names the admin message."""

    key = "Invalid voucher"


@dataclass(frozen=True)
class Terms:
    """What a voucher gives and when (shared by one code and a whole batch)."""

    kind: str = "amount"
    value: int = 0
    beyond_quota: bool = False
    max_uses: int | None = 1
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)
    note: str = ""


def _check(session: Session, event_id: int, terms: Terms) -> None:
    if terms.kind not in vouchers.KINDS:
        raise VoucherInvalid("kind", key="Choose a fixed amount or a percentage")
    if terms.value < 0 or (terms.kind == "percent" and terms.value > 100):
        raise VoucherInvalid("value", key="A percentage is between 0 and 100")
    if terms.value == 0 and not terms.beyond_quota:
        raise VoucherInvalid("empty", key="A voucher gives a discount or a place beyond the quota")
    if terms.max_uses is not None and terms.max_uses < 1:
        raise VoucherInvalid("uses", key="Uses must be at least 1 (or empty for no limit)")
    if terms.valid_from and terms.valid_until and terms.valid_until <= terms.valid_from:
        raise VoucherInvalid("window", key="The end of validity must come after its start")
    known = set(session.scalars(select(Category.code).where(Category.event_id == event_id)))
    if not set(terms.categories) <= known:
        raise VoucherInvalid("category", key="Unknown category")


def _new(event_id: int, code: str, terms: Terms, batch: str | None) -> Voucher:
    return Voucher(
        event_id=event_id,
        code=code,
        kind=terms.kind,
        value=terms.value,
        beyond_quota=terms.beyond_quota,
        max_uses=terms.max_uses,
        valid_from=terms.valid_from,
        valid_until=terms.valid_until,
        categories=list(terms.categories),
        note=terms.note[:200],
        batch=batch,
        active=True,
    )


def _valid_code(code: str) -> str:
    value = vouchers.normalise(code)
    if not value or len(value) > 40 or not value.isalnum():
        raise VoucherInvalid("code", key="A code is 1-40 letters and digits")
    return value


def create(session: Session, *, event_id: int, code: str, terms: Terms, actor: str) -> Voucher:
    """Add one named code (e.g. ``LARIPAGI``); refuses a code the event already has."""
    value = _valid_code(code)
    _check(session, event_id, terms)
    if vouchers.find(session, event_id=event_id, code=value) is not None:
        raise VoucherInvalid("taken", key="This code already exists in the event")
    voucher = _new(event_id, value, terms, None)
    session.add(voucher)
    session.flush()
    _audit(session, actor, "voucher.created", voucher, code=value)
    return voucher


def generate(
    session: Session, *, event_id: int, prefix: str, count: int, terms: Terms, actor: str
) -> list[Voucher]:
    """``count`` random codes ``PREFIX-XXXXXX`` sharing ``terms``, as one batch named by prefix."""
    head = _valid_code(prefix) if prefix else ""
    if not 1 <= count <= MAX_BATCH:
        raise VoucherInvalid("count", key="Generate between 1 and 5000 codes at a time")
    _check(session, event_id, terms)
    existing = set(session.scalars(select(Voucher.code).where(Voucher.event_id == event_id)))
    codes: set[str] = set()
    while len(codes) < count:  # 31^6 ≈ 887 million: collisions are rare, simply drawn again
        tail = "".join(secrets.choice(CODE_CHARS) for _ in range(RANDOM_LENGTH))
        code = f"{head}{tail}" if head else tail
        if code not in existing:
            codes.add(code)
    batch = f"{head or 'BATCH'}-{secrets.token_hex(3)}"
    rows = [_new(event_id, code, terms, batch) for code in sorted(codes)]
    session.add_all(rows)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="voucher.generated",
        subject_type="event",
        subject_id=event_id,
        batch=batch,
        count=count,
    )
    return rows


def _get(session: Session, event_id: int, voucher_id: int) -> Voucher:
    voucher = session.get(Voucher, voucher_id)
    if voucher is None or voucher.event_id != event_id:
        raise NotFound(f"voucher {voucher_id}")
    return voucher


def set_active(
    session: Session, *, event_id: int, voucher_id: int, active: bool, actor: str
) -> Voucher:
    """Disable (or enable again) a code; a disabled code is refused from then on."""
    voucher = _get(session, event_id, voucher_id)
    if voucher.active != active:
        voucher.active = active
        session.flush()
        _audit(session, actor, "voucher.enabled" if active else "voucher.disabled", voucher)
    return voucher


def delete(session: Session, *, event_id: int, voucher_id: int, actor: str) -> None:
    """Delete a code nobody ever used; a redeemed one raises VoucherInvalid (disable it instead)."""
    voucher = _get(session, event_id, voucher_id)
    if vouchers.redeemed(session, voucher.id):
        raise VoucherInvalid("redeemed", key="A redeemed code cannot be deleted; disable it")
    _audit(session, actor, "voucher.deleted", voucher, code=voucher.code)
    session.delete(voucher)
    session.flush()


def _audit(session: Session, actor: str, action: str, voucher: Voucher, **data: Any) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="voucher",
        subject_id=voucher.id,
        event_id=voucher.event_id,
        **data,
    )


@dataclass(frozen=True)
class Row:
    """One voucher with its active uses, as the admin lists and exports it."""

    voucher: Voucher
    used: int

    @property
    def left(self) -> int | None:
        cap = self.voucher.max_uses
        return None if cap is None else max(cap - self.used, 0)


def listing(
    session: Session, *, event_id: int, search: str = "", limit: int | None = 200
) -> list[Row]:
    """The event's vouchers, newest first, with their uses (``search``: part of the code/batch)."""
    stmt = select(Voucher).where(Voucher.event_id == event_id)
    if search:
        like = f"%{vouchers.normalise(search)}%"
        stmt = stmt.where(Voucher.code.like(like) | Voucher.batch.like(like))
    stmt = stmt.order_by(Voucher.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    used = vouchers.usage(session, event_id=event_id)
    return [Row(v, used.get(v.id, 0)) for v in session.scalars(stmt)]


EXPORT_COLUMNS = (
    "code", "batch", "kind", "value", "beyond_quota", "max_uses", "used", "left",
    "valid_from", "valid_until", "categories", "active", "note",
)  # fmt: skip


def export_rows(session: Session, *, event_id: int, batch: str | None = None) -> Iterator[list]:
    """The header, then one row per voucher (oldest first), for the CSV/XLSX export."""
    yield list(EXPORT_COLUMNS)
    used = vouchers.usage(session, event_id=event_id)
    stmt = select(Voucher).where(Voucher.event_id == event_id).order_by(Voucher.id)
    if batch:
        stmt = stmt.where(Voucher.batch == batch)
    for v in session.scalars(stmt):
        row = Row(v, used.get(v.id, 0))
        yield [
            v.code, v.batch or "", v.kind, v.value, v.beyond_quota, v.max_uses, row.used,
            row.left, v.valid_from, v.valid_until, ",".join(v.categories or []), v.active, v.note,
        ]  # fmt: skip
