"""Schemathesis against the app's OpenAPI: every admin and check-in operation, signed in as an
admin, with generated paths, queries and form bodies (half of them with a valid CSRF token).

The property is schemathesis' not_a_server_error: a 2xx/3xx/4xx, never a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from tests.admin.conftest import Seeded, login
from tests.fuzz.conftest import budget

# Signing out or changing the password would end the session the remaining cases need.
SKIP = {("POST", "/admin/logout"), ("POST", "/admin/account/password")}


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if operation.path.startswith(("/admin", "/checkin")) and key not in SKIP:
            found.append(operation)
    return found


def _with_csrf(case: Any, token: str, valid: bool) -> None:
    if valid and isinstance(case.body, dict):
        case.body["csrf_token"] = token
    if valid and case.method.upper() != "GET":
        case.headers = {**(case.headers or {}), "X-CSRF-Token": token}


@pytest.mark.parametrize("area", ["/admin", "/checkin"])
def test_no_operation_answers_500(app: Any, seeded: Seeded, area: str) -> None:
    with TestClient(app) as client:
        token = login(client, seeded.emails["admin"])
        cookies = dict(client.cookies)
    operations = [op for op in _operations(app) if op.path.startswith(area)]
    assert operations
    for operation in operations:

        @budget(default=3)
        @given(case=operation.as_strategy(), valid=st.booleans())
        def run(case: Any, valid: bool) -> None:
            _with_csrf(case, token, valid)
            response = case.call(cookies=cookies, allow_redirects=False)
            assert response.status_code < 500, (
                case.method,
                case.formatted_path,
                response.text[:300],
            )

        run()
