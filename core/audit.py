"""The audit log: every staff action and state change, with before/after values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

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
    row = AuditLog(**_values(actor, action, subject_type, subject_id, before, after, data))
    session.add(row)
    return row


_INSERT = insert(AuditLog.__table__)


def record_now(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_type: str = "",
    subject_id: object = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    **data: Any,
) -> None:
    """record(), as one cached INSERT sent at once (no object, no flush); for hot paths."""
    session.execute(_INSERT, _values(actor, action, subject_type, subject_id, before, after, data))


def _values(
    actor: str,
    action: str,
    subject_type: str,
    subject_id: object,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    data: dict[str, Any],
) -> dict[str, Any]:
    return {
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": str(subject_id),
        "before": _jsonable(before or {}),
        "after": _jsonable(after or {}),
        "data": _jsonable(data),
    }


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | None | list | dict) else str(v)
        for k, v in values.items()
    }
