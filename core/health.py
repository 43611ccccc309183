"""Readiness checks: is the database reachable, is the broker reachable."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session


def check_database(session: Session) -> str | None:
    """Return None when the database answers, else a short reason."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001  (any failure means "not ready")
        return f"database unreachable: {type(exc).__name__}"
    return None
