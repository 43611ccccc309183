"""core.staff.login.log_in called directly, as the login page calls it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import Role
from core.models import AuditLog
from core.staff import accounts, throttle
from core.staff.login import LoginOutcome, log_in

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
PASSWORD = "correct-horse-battery"


def _attempt(session: Session, password: str, address: str = "10.0.0.1"):  # type: ignore[no-untyped-def]
    return log_in(session, email=" Ops@Example.com ", password=password, address=address, now=NOW)


def _actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def test_log_in_checks_the_password_and_audits(session: Session) -> None:
    accounts.create(session, email="ops@example.com", password=PASSWORD, role=Role.VERIFIER)
    assert _attempt(session, "wrong").outcome is LoginOutcome.WRONG
    ok = _attempt(session, PASSWORD)
    assert ok.outcome is LoginOutcome.OK and ok.user is not None
    assert ok.user.last_login_at == NOW and ok.user not in session, "detached for the caller"
    assert _actions(session)[-2:] == ["staff.login_failed", "staff.login"]


def test_log_in_is_throttled_after_too_many_failures(session: Session) -> None:
    accounts.create(session, email="ops@example.com", password=PASSWORD, role=Role.VERIFIER)
    for n in range(throttle.MAX_PER_ACCOUNT):
        assert _attempt(session, f"guess-{n}", address=f"10.0.0.{n}").outcome is LoginOutcome.WRONG
    assert _attempt(session, PASSWORD).outcome is LoginOutcome.THROTTLED
    assert _actions(session)[-1] == "staff.login_throttled"
