"""Staff accounts: create, authenticate, change password (argon2 hashes)."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.enums import Role
from core.errors import Conflict
from core.models import AdminUser

_hasher = PasswordHasher()
MIN_PASSWORD = 10  # characters, for every staff password set through the admin


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
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
