"""Role boundaries, CSRF, login throttling and session handling over real HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core.db import unit_of_work
from tests import factories as f
from tests.admin.conftest import csrf_of, login


def test_anonymous_is_redirected_to_login_or_gets_401(app, seeded) -> None:
    client = TestClient(app)
    r = client.get("/admin/queue?x=1", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/admin/login?next=%2Fadmin%2Fqueue%3Fx%3D1"
    r = client.get("/admin/queue", headers={"accept": "application/json"}, follow_redirects=False)
    assert r.status_code == 401
    assert (
        client.get(
            "/admin/media/payment-images/1", headers={"x-requested-with": "XMLHttpRequest"}
        ).status_code
        == 401
    )


def test_login_sets_secure_httponly_cookie_and_redirects_to_next(app, seeded) -> None:
    client = TestClient(app)
    token = csrf_of(client)
    r = client.post(
        "/admin/login",
        data={
            "email": seeded.emails["verifier"],
            "password": f.PASSWORD,
            "csrf_token": token,
            "next": "/admin/queue",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/queue"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    evil = TestClient(app)
    r = evil.post(
        "/admin/login",
        data={
            "email": seeded.emails["admin"],
            "password": f.PASSWORD,
            "csrf_token": csrf_of(evil),
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert r.headers["location"] == "/admin/"


def test_login_without_csrf_is_refused(app, seeded) -> None:
    client = TestClient(app)
    csrf_of(client)
    r = client.post("/admin/login", data={"email": seeded.emails["admin"], "password": f.PASSWORD})
    assert r.status_code == 403


def test_post_with_wrong_csrf_is_refused(client_for, seeded) -> None:
    client, token = client_for("verifier")
    with unit_of_work() as uow:
        event = uow.session.get(f.Event, seeded.event_id)
        reg = f.make_registration(uow.session, event)
        payment_id = f.make_payment(uow.session, reg).id
    r = client.post(f"/admin/payments/{payment_id}/approve", data={"csrf_token": "forged"})
    assert r.status_code == 403
    r = client.post(f"/admin/payments/{payment_id}/approve", headers={"x-csrf-token": token + "x"})
    assert r.status_code == 403


def test_login_throttled_per_account(app, seeded) -> None:
    client = TestClient(app)
    token = csrf_of(client)
    email = seeded.emails["admin"]
    for _ in range(5):
        r = client.post(
            "/admin/login", data={"email": email, "password": "wrong", "csrf_token": token}
        )
        assert r.status_code == 401
    r = client.post(
        "/admin/login", data={"email": email, "password": f.PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 429 and "Terlalu banyak percobaan" in r.text  # Indonesian by default
    other = client.post(
        "/admin/login",
        data={"email": seeded.emails["verifier"], "password": f.PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert other.status_code == 303  # another account from the same address still works


def test_login_throttled_per_address(app, seeded) -> None:
    client = TestClient(app)
    token = csrf_of(client)
    for n in range(20):
        client.post(
            "/admin/login",
            data={"email": f"nobody{n}@x.test", "password": "x", "csrf_token": token},
        )
    r = client.post(
        "/admin/login",
        data={"email": seeded.emails["admin"], "password": f.PASSWORD, "csrf_token": token},
    )
    assert r.status_code == 429


def test_password_change_ends_other_sessions(app, seeded) -> None:
    first, second = TestClient(app), TestClient(app)
    token = login(first, seeded.emails["verifier"])
    login(second, seeded.emails["verifier"])
    new = "a much longer password"
    r = first.post(
        "/admin/account/password",
        data={"current": f.PASSWORD, "new": new, "confirm": new, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert first.get("/admin/account", follow_redirects=False).status_code == 200
    assert second.get("/admin/account", follow_redirects=False).status_code == 303


def test_logout(client_for) -> None:
    client, token = client_for("admin")
    r = client.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert client.get("/admin/account", follow_redirects=False).status_code == 303


@pytest.mark.parametrize(
    ("role", "path", "expected"),
    [
        ("checkin", "/admin/queue", 403),
        ("checkin", "/admin/registrations", 403),
        ("checkin", "/admin/settings", 403),
        ("verifier", "/admin/settings", 403),
        ("verifier", "/admin/events", 403),
        ("verifier", "/admin/audit", 403),
        ("verifier", "/admin/operations", 403),
        ("verifier", "/admin/queue", 200),
        ("verifier", "/admin/registrations", 200),
        ("admin", "/admin/settings", 200),
    ],
)
def test_role_boundaries(client_for, role: str, path: str, expected: int) -> None:
    client, _ = client_for(role)
    assert client.get(path, follow_redirects=False).status_code == expected


def test_checkin_staff_cannot_see_payment_photos(client_for, seeded) -> None:
    with unit_of_work() as uow:
        event = uow.session.get(f.Event, seeded.event_id)
        payment = f.make_payment(uow.session, f.make_registration(uow.session, event))
        image_id = payment.images[0].id
    checkin, _ = client_for("checkin")
    assert checkin.get(f"/admin/media/payment-images/{image_id}").status_code == 403
    verifier, _ = client_for("verifier")
    r = verifier.get(f"/admin/media/payment-images/{image_id}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"] == "private, no-store"


def test_verifier_cannot_change_settings(client_for, seeded) -> None:
    client, token = client_for("verifier")
    r = client.post(
        f"/admin/settings/payment/{seeded.event_id}",
        data={"unique_code_mode": "off", "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 403
