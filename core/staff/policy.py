"""Deployment-wide staff security policy the organiser sets on the admin's Settings page.

"Admins must sign in with two-factor" is required when the environment variable
REQUIRE_2FA_FOR_ADMINS says so (a deployment can force it on) OR the stored setting does. The page
can turn the stored setting on and off, never the forced one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core import audit
from core.config import get_settings
from core.db import utcnow
from core.models import DeploymentSetting

ADMIN_2FA_KEY = "staff.require_2fa_for_admins"


@dataclass(frozen=True, slots=True)
class Admin2FARule:
    stored: bool  # the organiser's choice on the Settings page
    forced: bool  # REQUIRE_2FA_FOR_ADMINS in the environment

    @property
    def required(self) -> bool:
        return self.stored or self.forced


def admin_2fa_rule(session: Session) -> Admin2FARule:
    row = session.get(DeploymentSetting, ADMIN_2FA_KEY)
    return Admin2FARule(stored=bool(row and row.value is True), forced=_forced())


def admin_2fa_required(session: Session) -> bool:
    """The effective rule; the environment is checked first so a forced deployment reads no row."""
    return _forced() or admin_2fa_rule(session).stored


def set_admin_2fa_required(session: Session, *, on: bool, actor: str) -> Admin2FARule:
    """Store the organiser's choice (audited, also when unchanged: the click is the record)."""
    row = session.get(DeploymentSetting, ADMIN_2FA_KEY, with_for_update=True)
    before = bool(row and row.value is True)
    if row is None:
        row = DeploymentSetting(key=ADMIN_2FA_KEY, value=on, updated_by=actor)
        session.add(row)
    row.value, row.updated_by, row.updated_at = on, actor, utcnow()
    audit.record(session, actor=actor, action="staff.2fa_required_changed",
                 subject_type="deployment_setting", subject_id=ADMIN_2FA_KEY,
                 before={"required": before}, after={"required": on})  # fmt: skip
    return Admin2FARule(stored=on, forced=_forced())


def _forced() -> bool:
    return get_settings().require_2fa_for_admins
