"""Staff accounts, login throttling and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, JSONType, UTCDateTime
from core.models._types import BigId, created, pk, str20, str100, str200


class AdminUser(Base):
    """A staff member: an admin, a verifier or a check-in volunteer (``role``).

    "Staff" is the word for the concept everywhere (core.staff, the ``staff.*`` audit actions,
    the admin's Staff page); the class and the ``admin_users`` table keep their names because the
    table is data and renaming it buys a migration, not clarity.
    """

    __tablename__ = "admin_users"

    id: Mapped[pk]
    email: Mapped[str200] = mapped_column(unique=True)
    name: Mapped[str200] = mapped_column(default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str20]
    # The admin's language for this staff member ("id" or "en"); Indonesian unless they switch.
    language: Mapped[str] = mapped_column(String(5), default="id", server_default="id")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[created]
    # Two-factor sign-in (core.staff.twofactor): the base32 TOTP secret, set while enrolling and
    # enabled once a code confirmed it; the last time step used, so a code is never accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(String(64), default=None)
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    totp_last_step: Mapped[int | None] = mapped_column(BigId, default=None)


class RecoveryCode(Base):
    """A single-use 2FA recovery code, stored as an argon2 hash (shown to the staff member once)."""

    __tablename__ = "staff_recovery_codes"

    id: Mapped[pk]
    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("admin_users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str200]
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[created]


class StaffSession(Base):
    """A signed-in browser of a staff member; the signed cookie names it by ``token``.

    Revoking (``revoked_at``) ends it on its next request, whatever the cookie says.
    """

    __tablename__ = "staff_sessions"

    id: Mapped[pk]
    token: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("admin_users.id", ondelete="CASCADE"), index=True
    )
    user_agent: Mapped[str200] = mapped_column(default="")  # a summary ("Chrome on Android")
    ip_prefix: Mapped[str] = mapped_column(String(50), default="")  # /24 or /48, never the address
    created_at: Mapped[created]
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class LoginAttempt(Base):
    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_time", "key", "created_at"),)

    id: Mapped[pk]
    key: Mapped[str200]
    success: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[created]


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)

    id: Mapped[pk]
    actor: Mapped[str200]
    action: Mapped[str100] = mapped_column(index=True)
    subject_type: Mapped[str] = mapped_column(String(50), default="")
    subject_id: Mapped[str] = mapped_column(String(50), default="")
    before: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[created]


class DeploymentSetting(Base):
    """A setting of the whole deployment that organisers change from the admin (not per event):
    staff accounts are per deployment, so e.g. "admins must use 2FA" is stored here once, by key."""

    __tablename__ = "deployment_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONType)
    updated_by: Mapped[str200] = mapped_column(default="")
    updated_at: Mapped[created]
