"""The audit log: every staff action and state change, with before/after values."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.db import insert_now
from core.models import AuditLog


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str = "",
    subject_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **data: Any,
) -> AuditLog:
    """Add one audit row (dotted action names, e.g. ``payment.approved``)."""
    row = AuditLog(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=_jsonable(before or {}),
        after=_jsonable(after or {}),
        data=_jsonable(data),
    )
    session.add(row)
    return row


def record_now(session: Session, **fields: Any) -> AuditLog:
    """record(), the row INSERTed at once (one cached statement, no flush); for hot paths."""
    row = record(session, **fields)
    session.expunge(row)
    insert_now(session, row)
    return row


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | None | list | dict) else str(v)
        for k, v in values.items()
    }
