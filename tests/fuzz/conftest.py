"""Hypothesis budgets: a few seconds per target in `make test`, longer with `make fuzz`.

HYPOTHESIS_PROFILE=fuzz (set by `make fuzz`) raises the example count; FUZZ_EXAMPLES overrides it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "derandomize": False,
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    "print_blob": True,
}
settings.register_profile("default-fuzz", max_examples=40, **_COMMON)
settings.register_profile(
    "fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "2000")), **_COMMON
)


def budget(default: int | None = None) -> settings:
    """The settings object for one fuzz target (profile chosen by HYPOTHESIS_PROFILE).

    ``default`` lowers the example count in `make test` (schemathesis: per operation).
    """
    if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz":
        return settings.get_profile("fuzz")
    profile = settings.get_profile("default-fuzz")
    return settings(profile, max_examples=default) if default else profile


from collections.abc import Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from tests.channels.helpers import webhook_app  # noqa: E402


@pytest.fixture
def client(committed_db: None, broker: Any) -> Iterator[TestClient]:
    """The webhook routes over a real database; a server exception fails the example with its trace."""
    with TestClient(webhook_app(), raise_server_exceptions=True) as test_client:
        yield test_client


from tests.admin.conftest import app, seeded  # noqa: E402, F401  (fixtures for test_openapi)
