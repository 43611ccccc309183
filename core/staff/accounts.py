"""Staff accounts: create, authenticate, change password (argon2 hashes), change role."""

from __future__ import annotations

import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, records
from core.config import get_settings
from core.enums import Role
from core.errors import Conflict
from core.models import AdminUser

MIN_PASSWORD = 10  # characters, for every staff password set through the admin


@lru_cache
def _hasher_for(time_cost: int, memory_kib: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)


def _hasher() -> PasswordHasher:
    """argon2id at the configured cost (argon2-cffi's defaults unless the settings lower them).

    A stored hash carries its own parameters, so verifying never depends on today's settings.
    """
    settings = get_settings()
    return _hasher_for(settings.password_hash_time_cost, settings.password_hash_memory_kib)


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """A readable random password for first-run admins."""
    return secrets.token_urlsafe(12)


def find_by_email(session: Session, email: str) -> AdminUser | None:
    return session.scalar(select(AdminUser).where(func.lower(AdminUser.email) == email.lower()))


def create(
    session: Session, *, email: str, password: str, role: Role, name: str = "", actor: str = "cli"
) -> AdminUser:
    """Create a staff account; raises Conflict when the email is taken."""
    if find_by_email(session, email):
        raise Conflict(f"{email} already exists", key="staff.exists")
    user = AdminUser(
        email=email.lower(), name=name, password_hash=hash_password(password), role=role.value
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="staff.created",
        subject_type="admin_user",
        subject_id=user.id,
        after={"email": user.email, "role": user.role},
    )
    return user


def set_password(session: Session, *, user: AdminUser, password: str, actor: str) -> None:
    user.password_hash = hash_password(password)
    audit.record(
        session,
        actor=actor,
        action="staff.password_changed",
        subject_type="admin_user",
        subject_id=user.id,
    )


def update_staff(
    session: Session, *, user_id: int, role: Role, active: bool, actor: str
) -> AdminUser:
    """Change a staff member's role or deactivate them; the last active admin stays an admin."""
    user = records.get(session, AdminUser, user_id, lock=True)
    demoting = user.role == Role.ADMIN.value and (role != Role.ADMIN or not active)
    if demoting and _active_admins(session) <= 1:
        raise Conflict("keep at least one active admin", key="admin.last_admin")
    before, after = records.apply(user, {"role": role.value, "active": active}, ("role", "active"))
    if after:
        records.audit_change(session, actor, "staff.updated", user, before, after)
    return user


def _active_admins(session: Session) -> int:
    stmt = select(func.count()).where(AdminUser.role == Role.ADMIN.value, AdminUser.active)
    return int(session.scalar(stmt) or 0)


def staff_label(session: Session, staff_id: int | None) -> str | None:
    """Return ``Name <email>`` (or the email) of a staff member, for "already approved by" notes."""
    if staff_id is None:
        return None
    member = session.get(AdminUser, staff_id)
    if member is None:
        return None
    return f"{member.name} <{member.email}>" if member.name else member.email
