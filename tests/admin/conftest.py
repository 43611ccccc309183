"""Fixtures for admin HTTP tests: the real app over TestClient, seeded data, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from core.db import unit_of_work
from core.enums import Role
from tests import factories as f


@dataclass
class Seeded:
    event_id: int
    emails: dict[str, str]


@pytest.fixture
def app(committed_db: None):  # noqa: ANN201
    from app.main import create_app

    return create_app()


@pytest.fixture
def seeded(committed_db: None) -> Seeded:
    """The demo event plus one user per role (password factories.PASSWORD)."""
    with unit_of_work() as uow:
        event = f.demo_event(uow.session, admin_password=f.PASSWORD)
        emails = {"admin": "admin@funrun.local"}
        for role in (Role.VERIFIER, Role.CHECKIN):
            emails[role.value] = f.make_staff(uow.session, role, password=f.PASSWORD).email
        return Seeded(event_id=event.id, emails=emails)


def csrf_of(client: TestClient) -> str:
    """Read the CSRF token from the login page's meta tag (creates the session cookie)."""
    html = client.get("/admin/login").text
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def login(client: TestClient, email: str, password: str = f.PASSWORD) -> str:
    """Sign ``client`` in; return its CSRF token."""
    token = csrf_of(client)
    r = client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    html = client.get("/admin/account").text
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


@pytest.fixture
def client_for(app, seeded: Seeded) -> Iterator[Callable[[str], tuple[TestClient, str]]]:  # noqa: ANN001
    """Factory: a signed-in TestClient and its CSRF token, for role 'admin'/'verifier'/'checkin'."""
    clients: list[TestClient] = []

    def make(role: str, lang: str | None = None) -> tuple[TestClient, str]:
        """``lang`` switches that staff member's admin language (Indonesian by default)."""
        client = TestClient(app)
        clients.append(client)
        token = login(client, seeded.emails[role])
        if lang:
            client.post("/admin/language", data={"lang": lang, "csrf_token": token})
        return client, token

    yield make
    for client in clients:
        client.close()
