"""Two-factor sign-in for staff: TOTP (RFC 6238, pyotp) with ten single-use recovery codes.

Enrolling stores a secret that is not yet enabled; a code from the app confirms it, which enables it
and hands out the recovery codes (only their argon2 hashes are kept). Codes are checked under the
staff row's lock and a used time step is remembered, so one code never signs in twice. Wrong codes
are counted in login_attempts under a key of their own (``2fa:<id>``): a correct password does not
reset that count, so knowing the password does not buy more guesses.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import audit, qr, records
from core.enums import Role
from core.errors import Conflict
from core.models import AdminUser, LoginAttempt, RecoveryCode
from core.staff import throttle

ISSUER = "funrun"
RECOVERY_CODES = 10
MAX_FAILURES = throttle.MAX_PER_ACCOUNT
# Recovery codes carry 50 random bits, so a light argon2 is enough and ten checks stay quick.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper


class CodeOutcome(StrEnum):
    OK = "ok"
    RECOVERY = "recovery"  # a recovery code was used (and is now spent)
    WRONG = "wrong"
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class Enrolment:
    secret: str
    uri: str  # otpauth:// for the authenticator app


def is_enabled(user: AdminUser) -> bool:
    return user.totp_enabled_at is not None and bool(user.totp_secret)


def must_enrol(user: AdminUser, *, required: bool) -> bool:
    """An admin without 2FA while the deployment requires it for admins."""
    return required and user.role == Role.ADMIN.value and not is_enabled(user)


def begin(session: Session, *, user_id: int) -> Enrolment:
    """Give the staff member a fresh secret to scan (not enabled until ``confirm``)."""
    user = records.get(session, AdminUser, user_id, lock=True)
    if is_enabled(user):
        raise Conflict("two-factor sign-in is already on", key="staff.2fa_enabled")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
    return Enrolment(user.totp_secret, uri_for(user.email, user.totp_secret))


def uri_for(email: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG QR code, drawn here (the secret never leaves the server)."""
    return qr.svg(uri, box_size=8)


def confirm(session: Session, *, user_id: int, code: str, now: datetime) -> list[str] | None:
    """Enable 2FA when ``code`` matches the pending secret; return the new recovery codes."""
    user = records.get(session, AdminUser, user_id, lock=True)
    if is_enabled(user) or not user.totp_secret:
        return None
    step = _matching_step(user, code, now)
    if step is None:
        return None
    user.totp_enabled_at, user.totp_last_step = now, step
    codes = _new_recovery_codes(session, user)
    audit.record(session, actor=user.email, action="staff.2fa_enabled",
                 subject_type="admin_user", subject_id=user.id)  # fmt: skip
    return codes


def regenerate_codes(session: Session, *, user_id: int) -> list[str]:
    """Replace every recovery code (the old ones stop working)."""
    user = records.get(session, AdminUser, user_id, lock=True)
    if not is_enabled(user):
        raise Conflict("two-factor sign-in is off", key="staff.2fa_off")
    codes = _new_recovery_codes(session, user)
    audit.record(session, actor=user.email, action="staff.2fa_codes_regenerated",
                 subject_type="admin_user", subject_id=user.id)  # fmt: skip
    return codes


def _new_recovery_codes(session: Session, user: AdminUser) -> list[str]:
    session.query(RecoveryCode).filter(RecoveryCode.staff_id == user.id).delete()
    codes = [_random_code() for _ in range(RECOVERY_CODES)]
    for code in codes:
        session.add(RecoveryCode(staff_id=user.id, code_hash=_code_hasher.hash(_norm(code))))
    return codes


def _random_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _norm(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _matching_step(user: AdminUser, code: str, now: datetime) -> int | None:
    """The time step ``code`` belongs to (now, or one step either side), if not used before."""
    digits = "".join(ch for ch in code if ch.isdecimal())
    if len(digits) != 6 or not user.totp_secret:
        return None
    totp = pyotp.TOTP(user.totp_secret)
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):
        used = user.totp_last_step is not None and candidate <= user.totp_last_step
        if not used and secrets.compare_digest(totp.generate_otp(candidate), digits):
            return candidate
    return None


def throttle_key(user_id: int) -> str:
    return f"2fa:{user_id}"


def check(session: Session, *, user_id: int, code: str, now: datetime) -> CodeOutcome:
    """Check a sign-in code (TOTP or recovery code) of an enrolled staff member; audited."""
    user = records.get(session, AdminUser, user_id, lock=True)
    key = throttle_key(user.id)
    if throttle.failures(session, key, now) >= MAX_FAILURES:
        audit.record(session, actor=user.email, action="staff.2fa_throttled",
                     subject_type="admin_user", subject_id=user.id)  # fmt: skip
        return CodeOutcome.THROTTLED
    outcome = _verify(session, user, code, now)
    session.add(LoginAttempt(key=key, success=outcome != CodeOutcome.WRONG, created_at=now))
    action = {CodeOutcome.OK: "staff.2fa_passed", CodeOutcome.RECOVERY: "staff.2fa_recovery_used",
              CodeOutcome.WRONG: "staff.2fa_failed"}[outcome]  # fmt: skip
    audit.record(session, actor=user.email, action=action,
                 subject_type="admin_user", subject_id=user.id)  # fmt: skip
    return outcome


def _verify(session: Session, user: AdminUser, code: str, now: datetime) -> CodeOutcome:
    if not is_enabled(user):
        return CodeOutcome.WRONG
    step = _matching_step(user, code, now)
    if step is not None:
        user.totp_last_step = step
        return CodeOutcome.OK
    return CodeOutcome.RECOVERY if _spend_recovery(session, user, code, now) else CodeOutcome.WRONG


def _spend_recovery(session: Session, user: AdminUser, code: str, now: datetime) -> bool:
    value = _norm(code)
    if len(value) != 10:
        return False
    unused = select(RecoveryCode).where(
        RecoveryCode.staff_id == user.id, RecoveryCode.used_at.is_(None)
    )
    for row in session.scalars(unused):
        if _code_matches(row.code_hash, value):
            # Conditional: two requests racing with one code spend it once.
            spent = session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == row.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now)
            )
            return spent.rowcount == 1  # type: ignore[attr-defined]
    return False


def _code_matches(code_hash: str, value: str) -> bool:
    try:
        return _code_hasher.verify(code_hash, value)
    except (VerificationError, InvalidHashError):
        return False


def recovery_left(session: Session, *, user_id: int) -> int:
    stmt = select(RecoveryCode.id).where(
        RecoveryCode.staff_id == user_id, RecoveryCode.used_at.is_(None)
    )
    return len(session.scalars(stmt).all())


def disable(
    session: Session, *, user_id: int, actor: str, action: str = "staff.2fa_disabled"
) -> AdminUser:
    """Turn 2FA off and forget the secret and the recovery codes (the caller checked the right)."""
    user = records.get(session, AdminUser, user_id, lock=True)
    was_on = is_enabled(user)
    user.totp_secret, user.totp_enabled_at, user.totp_last_step = None, None, None
    session.query(RecoveryCode).filter(RecoveryCode.staff_id == user.id).delete()
    audit.record(session, actor=actor, action=action, subject_type="admin_user",
                 subject_id=user.id, was_on=was_on)  # fmt: skip
    return user
