"""Counting failed attempts in the login_attempts table (staff logins and check-in desk PINs).

Staff logins are throttled per account and per address; desk PINs use ``count_failures`` with
their own keys (core.fulfilment.desks).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import LoginAttempt

WINDOW = timedelta(minutes=15)
MAX_PER_ACCOUNT = 5  # a verifier mistyping twice is fine; a guesser is stopped quickly
MAX_PER_ADDRESS = 20  # a venue's shared Wi-Fi holds several staff


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


def keys(email: str, address: str) -> tuple[str, str]:
    return f"acct:{email.strip().lower()}"[:200], f"addr:{address}"[:200]


def failures(session: Session, key: str, now: datetime) -> int:
    """Failures under ``key`` in the window, counted from its last success (if more recent)."""
    last_ok = session.scalar(
        select(func.max(LoginAttempt.created_at)).where(
            LoginAttempt.key == key, LoginAttempt.success.is_(True)
        )
    )
    since = max(now - WINDOW, last_ok) if last_ok else now - WINDOW
    return count_failures(session, key=key, since=since)


def is_blocked(session: Session, *, email: str, address: str, now: datetime) -> bool:
    """True when either the account or the address has too many recent failures."""
    account, addr = keys(email, address)
    return (
        failures(session, account, now) >= MAX_PER_ACCOUNT
        or failures(session, addr, now) >= MAX_PER_ADDRESS
    )


def record(session: Session, *, email: str, address: str, success: bool, now: datetime) -> None:
    """Store one attempt under both keys."""
    for key in keys(email, address):
        session.add(LoginAttempt(key=key, success=success, created_at=now))
