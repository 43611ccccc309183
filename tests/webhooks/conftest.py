from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.channels.helpers import webhook_app


@pytest.fixture
def client(committed_db: None, broker: Any) -> Iterator[TestClient]:
    """The webhook routes over a real database; enqueued jobs go to the (flushed) Redis broker."""
    with TestClient(webhook_app(), raise_server_exceptions=False) as test_client:
        yield test_client
