"""Staff 2FA (TOTP + recovery codes) and server-side sessions, through the real admin over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.models import AdminUser, AuditLog, RecoveryCode, StaffSession
from core.staff import sessions, twofactor
from tests import factories as f
from tests.admin.conftest import csrf_of, login


def _csrf(client: TestClient, path: str = "/admin/account") -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def _user(email: str) -> AdminUser:
    with get_sessionmaker()() as session:
        return session.scalars(select(AdminUser).where(AdminUser.email == email)).one()


def _actions() -> list[str]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))


def _code(secret: str, offset: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.at(utcnow() + timedelta(seconds=offset * totp.interval))


def _enrol(client: TestClient) -> tuple[str, list[str]]:
    """Enrol through the pages; return the secret and the recovery codes shown once."""
    page = client.get("/admin/account/2fa")
    assert (
        page.status_code == 200
        and "<svg" in page.text
        and page.headers["cache-control"] == "no-store"
    )
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    token = _csrf(client, "/admin/account")
    wrong = client.post("/admin/account/2fa", data={"code": "000000", "csrf_token": token})
    assert wrong.status_code == 400
    shown = client.post("/admin/account/2fa", data={"code": _code(secret), "csrf_token": token})
    assert shown.status_code == 200, shown.text
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", shown.text)
    assert len(codes) == 10
    return secret, codes


def _password_step(client: TestClient, email: str) -> None:
    token = csrf_of(client)
    r = client.post("/admin/login", data={"email": email, "password": f.PASSWORD,
                                          "csrf_token": token}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/admin/login/code"


def _code_step(client: TestClient, code: str) -> int:
    token = _csrf(client, "/admin/login/code")
    r = client.post("/admin/login/code", data={"code": code, "csrf_token": token},
                    follow_redirects=False)  # fmt: skip
    return r.status_code


def test_enrol_then_sign_in_asks_for_the_code_and_recovery_codes_work_once(app, seeded) -> None:  # noqa: ANN001
    email = seeded.emails["verifier"]
    with TestClient(app) as client:
        login(client, email)
        secret, codes = _enrol(client)
    with get_sessionmaker()() as session:
        hashes = session.scalars(select(RecoveryCode.code_hash)).all()
    assert len(hashes) == 10 and not any(c in h for c in codes for h in hashes)  # hashed only
    with TestClient(app) as client:
        _password_step(client, email)
        assert client.get("/admin/queue", follow_redirects=False).status_code == 303  # not yet in
        assert _code_step(client, "123456") == 401
        # The step that confirmed enrolment is spent: the next one (the app 30 s later) is taken.
        assert _code_step(client, _code(secret)) == 401
        assert _code_step(client, _code(secret, 1)) == 303
        assert client.get("/admin/queue").status_code == 200
    with TestClient(app) as client:  # the same code again (a replay) is refused
        _password_step(client, email)
        assert _code_step(client, _code(secret, 1)) == 401
        assert _code_step(client, codes[0].upper()) == 303  # a recovery code, any case
    with TestClient(app) as client:
        _password_step(client, email)
        assert _code_step(client, codes[0]) == 401  # spent
    assert {"staff.2fa_enabled", "staff.2fa_passed", "staff.2fa_failed",
            "staff.2fa_recovery_used"} <= set(_actions())  # fmt: skip


def test_wrong_codes_are_throttled_even_after_a_right_password(app, seeded) -> None:  # noqa: ANN001
    email = seeded.emails["verifier"]
    with TestClient(app) as client:
        login(client, email)
        secret, _codes = _enrol(client)
    with TestClient(app) as client:
        for n in range(twofactor.MAX_FAILURES):
            _password_step(client, email)  # the password again does not reset the count
            assert _code_step(client, f"{n:06d}") == 401
        _password_step(client, email)
        assert _code_step(client, _code(secret)) == 429
    assert "staff.2fa_throttled" in _actions()


def test_disable_needs_password_and_code(app, seeded) -> None:  # noqa: ANN001
    email = seeded.emails["verifier"]
    with TestClient(app) as client:
        login(client, email)
        secret, _codes = _enrol(client)
        token = _csrf(client)
        data = {"password": "wrong-password", "code": _code(secret), "csrf_token": token}
        assert client.post("/admin/account/2fa/disable", data=data).status_code == 400
        data = {"password": f.PASSWORD, "code": "111111", "csrf_token": token}
        assert client.post("/admin/account/2fa/disable", data=data).status_code == 400
        data = {"password": f.PASSWORD, "code": _code(secret, 1), "csrf_token": token}
        r = client.post("/admin/account/2fa/disable", data=data, follow_redirects=False)
        assert r.status_code == 303
    assert not twofactor.is_enabled(_user(email))
    assert "staff.2fa_disabled" in _actions()


def test_admin_resets_a_colleagues_2fa_and_their_sessions_end(app, seeded) -> None:  # noqa: ANN001
    email = seeded.emails["verifier"]
    with TestClient(app) as colleague, TestClient(app) as admin:
        login(colleague, email)
        _enrol(colleague)
        token = login(admin, seeded.emails["admin"])
        target = _user(email).id
        r = admin.post(f"/admin/settings/staff/{target}/reset-2fa", data={"csrf_token": token},
                       follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        assert colleague.get("/admin/account", follow_redirects=False).status_code == 303
    assert not twofactor.is_enabled(_user(email))
    assert "staff.2fa_reset" in _actions()


def test_admins_without_2fa_are_sent_to_enrol_when_required(
    app,
    seeded,
    monkeypatch: pytest.MonkeyPatch,  # noqa: ANN001
) -> None:
    monkeypatch.setenv("REQUIRE_2FA_FOR_ADMINS", "true")
    get_settings.cache_clear()
    try:
        _required_2fa(app, seeded)
    finally:  # the cached settings must not keep the requirement for later tests
        monkeypatch.delenv("REQUIRE_2FA_FOR_ADMINS")
        get_settings.cache_clear()


def _required_2fa(app, seeded) -> None:  # noqa: ANN001
    with TestClient(app) as client:
        login(client, seeded.emails["admin"])
        r = client.get("/admin/registrations", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/admin/account/2fa"
        _enrol(client)
        assert client.get("/admin/registrations").status_code == 200
    with TestClient(app) as client:  # verifiers are not forced
        login(client, seeded.emails["verifier"])
        assert client.get("/admin/queue", follow_redirects=False).status_code == 200


def test_sessions_are_listed_and_a_revoked_one_is_refused_next_request(app, seeded) -> None:  # noqa: ANN001
    email = seeded.emails["verifier"]
    with TestClient(app) as laptop, TestClient(app) as phone, TestClient(app) as tablet:
        for client in (laptop, phone, tablet):
            login(client, email)
        page = laptop.get("/admin/account").text
        assert page.count('class="session-row"') == 3 and "Peramban ini" in page
        with get_sessionmaker()() as session:
            rows = session.scalars(select(StaffSession).order_by(StaffSession.id)).all()
        phone_id = rows[1].id
        token = _csrf(laptop)
        r = laptop.post(f"/admin/account/sessions/{phone_id}/revoke", data={"csrf_token": token},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303
        assert phone.get("/admin/queue", follow_redirects=False).status_code == 303  # refused
        assert tablet.get("/admin/queue").status_code == 200
        laptop.post("/admin/account/sessions/revoke-others", data={"csrf_token": token})
        assert tablet.get("/admin/queue", follow_redirects=False).status_code == 303
        assert laptop.get("/admin/queue").status_code == 200  # this browser stays
    assert {"staff.session_revoked", "staff.sessions_revoked"} <= set(_actions())


def test_a_session_cannot_revoke_someone_elses(app, seeded) -> None:  # noqa: ANN001
    with TestClient(app) as admin, TestClient(app) as verifier:
        token = login(admin, seeded.emails["admin"])
        login(verifier, seeded.emails["verifier"])
        with get_sessionmaker()() as session:
            theirs = session.scalars(select(StaffSession).order_by(StaffSession.id.desc())).first()
        admin.post(f"/admin/account/sessions/{theirs.id}/revoke", data={"csrf_token": token})
        assert verifier.get("/admin/queue").status_code == 200


def test_session_summary_keeps_no_full_address_or_agent() -> None:
    chrome = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
    assert sessions.summarise_agent(chrome) == "Chrome on Android"
    assert sessions.ip_prefix("203.0.113.77") == "203.0.113.0/24"
    assert sessions.ip_prefix("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert sessions.ip_prefix("testclient") == ""


def test_confirming_the_same_code_twice_enables_once(committed_db: None) -> None:
    with unit_of_work() as uow:
        user = f.make_staff(uow.session)
        user_id = user.id
        secret = twofactor.begin(uow.session, user_id=user_id).secret
    code = _code(secret)
    with unit_of_work() as uow:
        assert twofactor.confirm(uow.session, user_id=user_id, code=code, now=utcnow())
    with unit_of_work() as uow:
        assert twofactor.confirm(uow.session, user_id=user_id, code=code, now=utcnow()) is None


def test_one_recovery_code_used_from_two_browsers_at_once_signs_in_once(committed_db: None) -> None:
    """PostgreSQL: the staff row's lock serialises the checks; the code is spent once."""
    from concurrent.futures import ThreadPoolExecutor

    with unit_of_work() as uow:
        user_id = f.make_staff(uow.session).id
        secret = twofactor.begin(uow.session, user_id=user_id).secret
    with unit_of_work() as uow:
        codes = twofactor.confirm(uow.session, user_id=user_id, code=_code(secret), now=utcnow())
    assert codes

    def attempt(_n: int) -> twofactor.CodeOutcome:
        with unit_of_work() as uow:
            return twofactor.check(uow.session, user_id=user_id, code=codes[3], now=utcnow())

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(attempt, range(4)))
    assert outcomes.count(twofactor.CodeOutcome.RECOVERY) == 1
    assert outcomes.count(twofactor.CodeOutcome.WRONG) == 3
