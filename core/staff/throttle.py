"""Counting failed attempts in the login_attempts table (staff logins and check-in desk PINs)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import LoginAttempt


def count_failures(session: Session, *, key: str, since: datetime) -> int:
    """Failed attempts recorded under ``key`` after ``since``."""
    count = session.scalar(
        select(func.count()).where(
            LoginAttempt.key == key,
            LoginAttempt.success.is_(False),
            LoginAttempt.created_at > since,
        )
    )
    return int(count or 0)
