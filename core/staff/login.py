"""Staff login: throttle, check the password, record the attempt and the audit row.

The admin login page opens the transaction and turns the outcome into a page; the rules (when
an attempt is refused, what is recorded, which audit action) live here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from core import audit
from core.models import AdminUser
from core.staff import accounts, throttle


class LoginOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"  # unknown email, inactive account or wrong password: never said which
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class Login:
    outcome: LoginOutcome
    user: AdminUser | None = None  # only when OK, detached from the session


def log_in(session: Session, *, email: str, password: str, address: str, now: datetime) -> Login:
    """Check one login attempt from ``address``; every attempt is counted and audited."""
    attempted = email.strip().lower()[:200]
    if throttle.is_blocked(session, email=email, address=address, now=now):
        audit.record(session, actor="anonymous", action="staff.login_throttled", email=attempted)
        return Login(LoginOutcome.THROTTLED)
    user = accounts.find_by_email(session, email.strip())
    ok = bool(user and user.active and accounts.verify_password(user.password_hash, password))
    throttle.record(session, email=email, address=address, success=ok, now=now)
    if not ok or user is None:
        # the attempted address, never the password: shows who is being guessed at
        audit.record(session, actor="anonymous", action="staff.login_failed", email=attempted)
        return Login(LoginOutcome.WRONG)
    user.last_login_at = now
    audit.record(
        session,
        actor=user.email,  # the audit actor of staff, as admin.auth.actor_name writes it
        action="staff.login",
        subject_type="admin_user",
        subject_id=user.id,
    )
    session.flush()
    session.expunge(user)  # the caller keeps it after the session closes
    return Login(LoginOutcome.OK, user)
