"""Organiser edits of settings rows: load by id or NotFound, set the changed fields, audit the change.

Shared by the modules that own those rows (events.setup, payments.accounts, fulfilment.desks,
staff.accounts), so every settings change is audited the same way.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.errors import NotFound

SUBJECTS = {
    "events": "event",
    "categories": "category",
    "payment_accounts": "payment_account",
    "admin_users": "admin_user",
}


def get(session: Session, model: Any, ident: int, *, lock: bool = False) -> Any:
    """Load a row by id (FOR UPDATE when ``lock``) or raise NotFound."""
    stmt = select(model).where(model.id == ident)
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None:
        raise NotFound(f"{model.__tablename__} {ident}")
    return row


def apply(row: Any, data: dict[str, Any], fields: tuple[str, ...]) -> tuple[dict, dict]:
    """Set the allowed fields that changed; return (before, after) of those fields."""
    before, after = {}, {}
    for name in fields:
        if name in data and getattr(row, name) != data[name]:
            before[name], after[name] = getattr(row, name), data[name]
            setattr(row, name, data[name])
    return before, after


def audit_change(
    session: Session, actor: str, action: str, row: Any, before: dict, after: dict
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type=SUBJECTS.get(row.__tablename__, row.__tablename__),
        subject_id=row.id,
        before=before,
        after=after,
    )
