"""Role boundaries on money, /metrics access, the Secure cookie, and login audit rows."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import select

from core.config import get_settings
from core.db import get_sessionmaker
from core.models import AuditLog
from tests import factories as f
from tests.admin.conftest import csrf_of

FINANCIAL = "/admin/exports/financial.csv"


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the block; restore them after."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_settings.cache_clear()


PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "a-long-random-production-secret-for-tests",
    "PUBLIC_BASE_URL": "https://run.example.org",
}


def test_financial_export_links_for_admin_only(client_for, seeded) -> None:
    admin, _ = client_for("admin", lang="en")
    for path in ("/admin/", "/admin/registrations"):
        html = admin.get(path).text
        assert 'href="/admin/exports/financial.csv' in html, path
        assert 'href="/admin/exports/financial.xlsx' in html, path
    html = admin.get(f"/admin/registrations?event_id={seeded.event_id}").text
    assert f'href="/admin/exports/financial.csv?event_id={seeded.event_id}"' in html
    assert admin.get(f"{FINANCIAL}?event_id={seeded.event_id}").status_code == 200

    verifier, _ = client_for("verifier", lang="en")
    for path in ("/admin/", "/admin/registrations"):
        r = verifier.get(path)
        assert r.status_code == 200 and "/admin/exports/financial" not in r.text, path
    checkin, _ = client_for("checkin", lang="en")
    assert "/admin/exports/financial" not in checkin.get("/checkin").text
    assert checkin.get("/admin/", follow_redirects=False).status_code == 403
    assert checkin.get("/admin/registrations").status_code == 403


def test_verifier_dashboard_shows_counts_without_money(client_for, seeded) -> None:
    from tests.admin.test_pages import seed_some

    seed_some(seeded.event_id)
    admin, _ = client_for("admin", lang="en")
    html = admin.get("/admin/").text
    assert "Revenue verified" in html and "Outstanding" in html
    verifier, _ = client_for("verifier", lang="en")
    html = verifier.get("/admin/").text
    assert "Waiting for verification" in html and "Registrations per status" in html
    assert "Revenue verified" not in html and "Outstanding" not in html
    assert "Rp" not in html.split("<main", 1)[1].split("Categories", 1)[0]
    assert verifier.get(FINANCIAL).status_code == 403


def test_metrics_requires_the_bearer_token_when_set(app, seeded) -> None:
    client = TestClient(app)
    with environment(METRICS_TOKEN="scrape-me-please"):
        r = client.get("/metrics")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert ok.status_code == 200 and "funrun_queue_depth" in ok.text
    assert client.get("/metrics").status_code == 200  # tests run without a token


def test_metrics_without_token_in_production_is_loopback_only(app, seeded) -> None:
    with environment(**PRODUCTION, METRICS_TOKEN=None):
        remote = TestClient(app, client=("203.0.113.9", 40000))
        r = remote.get("/metrics")
        assert r.status_code == 403 and "METRICS_TOKEN" in r.text
        for host in ("127.0.0.1", "::1"):
            local = TestClient(app, client=(host, 40000))
            assert local.get("/metrics").status_code == 200, host
        with environment(METRICS_TOKEN="tok"):
            remote_ok = remote.get("/metrics", headers={"Authorization": "Bearer tok"})
            assert remote_ok.status_code == 200


def test_session_cookie_is_secure_when_public_url_is_https(app, seeded) -> None:
    with environment(PUBLIC_BASE_URL="https://run.example.org"):
        client = TestClient(app, base_url="https://testserver")
        r = client.post(
            "/admin/login",
            data={
                "email": seeded.emails["admin"],
                "password": f.PASSWORD,
                "csrf_token": csrf_of(client),
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        parts = [p.strip().lower() for p in r.headers["set-cookie"].split(";")]
        assert "secure" in parts and "httponly" in parts and "samesite=lax" in parts
    plain = TestClient(app)
    cookie = plain.post(
        "/admin/login",
        data={
            "email": seeded.emails["admin"],
            "password": f.PASSWORD,
            "csrf_token": csrf_of(plain),
        },
        follow_redirects=False,
    ).headers["set-cookie"]
    assert "secure" not in [p.strip().lower() for p in cookie.split(";")]


def audit_rows(action: str) -> list[AuditLog]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(AuditLog).where(AuditLog.action == action)))


def test_login_and_failed_login_audit_rows(app, seeded) -> None:
    client = TestClient(app)
    secret = "wrong-password-never-logged"
    r = client.post(
        "/admin/login",
        data={
            "email": " Verifier-Guess@Example.test ",
            "password": secret,
            "csrf_token": csrf_of(client),
        },
    )
    assert r.status_code == 401
    failed = audit_rows("staff.login_failed")
    assert len(failed) == 1 and failed[0].actor == "anonymous"
    assert failed[0].data == {"email": "verifier-guess@example.test"}
    client.post(
        "/admin/login",
        data={
            "email": seeded.emails["admin"],
            "password": f.PASSWORD,
            "csrf_token": csrf_of(client),
        },
    )
    logins = audit_rows("staff.login")
    assert [row.actor for row in logins] == [seeded.emails["admin"]]
    assert logins[0].subject_type == "admin_user"
    with get_sessionmaker()() as session:
        everything = [
            json.dumps([row.data, row.before, row.after])
            for row in session.scalars(select(AuditLog))
        ]
    assert not any(secret in text for text in everything)


def test_audit_page_filter_narrows_rows(client_for, seeded) -> None:
    admin, _ = client_for("admin", lang="en")
    admin.get(f"/admin/exports/participants.csv?event_id={seeded.event_id}")
    everything = admin.get("/admin/audit").text
    # Actions in words, not keys (the filter still takes the key).
    assert "<strong>Signed in</strong>" in everything and "staff.login</td>" not in everything
    assert "<strong>Participants exported</strong>" in everything
    narrowed = admin.get("/admin/audit?action=staff.login").text
    assert "<strong>Signed in</strong>" in narrowed
    assert "<strong>Participants exported</strong>" not in narrowed
    by_actor = admin.get("/admin/audit?actor=nobody-like-this").text
    assert "Nothing logged." in by_actor
