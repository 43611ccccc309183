"""Fixtures for flow tests: the demo event seeded inside the rolled-back session."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core import demo
from core.models import Event


@pytest.fixture
def event(session: Session) -> Event:
    """The demo event "Jakarta Fun Run" (5K/10K/21K)."""
    result = demo.seed(session, admin_password="test-password-123")
    found = session.get(Event, result.event_id)
    assert found is not None
    return found
