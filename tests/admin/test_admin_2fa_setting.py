"""The Settings page's "Require two-factor sign-in for admins": stored once per deployment, OR-ed
with REQUIRE_2FA_FOR_ADMINS, through the real admin over HTTP on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work
from core.enums import Role
from core.models import AuditLog
from core.staff import policy
from tests import factories as f
from tests.admin.conftest import login

SECURITY = "/admin/settings/security"
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def _audit_rows() -> list[AuditLog]:
    with get_sessionmaker()() as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.action == "staff.2fa_required_changed")
        )
        return list(rows)


def _stored() -> bool:
    with get_sessionmaker()() as session:
        return policy.admin_2fa_rule(session).stored


@pytest.fixture
def forced(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REQUIRE_2FA_FOR_ADMINS", "true")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("REQUIRE_2FA_FOR_ADMINS")
    get_settings.cache_clear()  # the cached settings must not keep the requirement for later tests


def test_turning_it_on_sends_the_admin_to_enrol_and_holds_other_admins(app, seeded) -> None:  # noqa: ANN001
    with unit_of_work() as uow:
        other = f.make_staff(uow.session, Role.ADMIN, password=f.PASSWORD).email
    with TestClient(app) as admin, TestClient(app) as colleague, TestClient(app) as verifier:
        login(colleague, other)
        assert colleague.get("/admin/registrations", follow_redirects=False).status_code == 200
        token = login(admin, seeded.emails["admin"])
        r = admin.post(SECURITY, data={"require_2fa": "on", "csrf_token": token},
                       follow_redirects=False)  # fmt: skip
        # Not locked out: sent to the enrolment page, which opens.
        assert r.status_code == 303 and r.headers["location"] == "/admin/account/2fa"
        assert admin.get("/admin/account/2fa").status_code == 200
        # The colleague, already signed in, is held at their next request (a POST gets a 403).
        r = colleague.get("/admin/registrations", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/account/2fa"
        assert colleague.post(SECURITY, data={}).status_code == 403
        login(verifier, seeded.emails["verifier"])  # verifiers are not affected
        assert verifier.get("/admin/queue", follow_redirects=False).status_code == 200
    assert _stored()
    [row] = _audit_rows()
    assert row.actor == seeded.emails["admin"]
    assert (row.before, row.after) == ({"required": False}, {"required": True})


def test_turning_it_off_again_is_audited_and_frees_admins(app, seeded) -> None:  # noqa: ANN001
    with unit_of_work() as uow:
        policy.set_admin_2fa_required(uow.session, on=True, actor="seed")
    with TestClient(app) as admin:
        login(admin, seeded.emails["admin"])
        # Held at enrolment, the Settings page is out of reach: only the env var or the DB frees it.
        assert admin.get("/admin/settings", follow_redirects=False).status_code == 303
    with unit_of_work() as uow:
        policy.set_admin_2fa_required(uow.session, on=False, actor="seed")
    with TestClient(app) as admin:
        token = login(admin, seeded.emails["admin"])
        r = admin.post(SECURITY, data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].endswith("#security")
        assert admin.get("/admin/registrations", follow_redirects=False).status_code == 200
    assert not _stored()
    assert [r.after["required"] for r in _audit_rows()] == [True, False, False]


def test_refused_without_csrf_token_and_for_a_verifier(app, seeded) -> None:  # noqa: ANN001
    with TestClient(app) as admin:
        login(admin, seeded.emails["admin"])
        assert admin.post(SECURITY, data={"require_2fa": "on"}).status_code == 403
    with TestClient(app) as verifier:
        token = login(verifier, seeded.emails["verifier"])
        r = verifier.post(SECURITY, data={"require_2fa": "on", "csrf_token": token})
        assert r.status_code == 403
    assert not _stored() and not _audit_rows()


def test_the_page_shows_the_setting_and_when_the_environment_forces_it(  # noqa: ANN001
    app, seeded, forced
) -> None:
    with unit_of_work() as uow:  # an admin who has 2FA (the forced rule would hold them otherwise)
        user = f.make_staff(uow.session, Role.ADMIN, password=f.PASSWORD)
        user.totp_secret, user.totp_enabled_at = SECRET, user.created_at
        email = user.email
    with TestClient(app) as admin:
        _login_with_code(admin, email)
        page = admin.get("/admin/settings").text
    assert 'id="security"' in page and "REQUIRE_2FA_FOR_ADMINS" in page
    assert 'name="require_2fa" checked disabled' in page
    assert 'action="/admin/settings/security"' in page


def _login_with_code(client: TestClient, email: str) -> None:
    """Password, then the TOTP code of the fixed test secret."""
    login(client, email)
    page = client.get("/admin/login/code")
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    code = pyotp.TOTP(SECRET).now()
    r = client.post("/admin/login/code", data={"code": code, "csrf_token": csrf},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
