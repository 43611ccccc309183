from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.channels.helpers import webhook_app


def _whole_app() -> FastAPI:
    from app.main import create_app

    return create_app()


@pytest.fixture(params=["routers", "create_app"])
def client(request: pytest.FixtureRequest, committed_db: None, broker: Any) -> Iterator[TestClient]:
    """The webhook routes over a real database; enqueued jobs go to the (flushed) Redis broker.

    Each test runs twice: on the bare routers, and on create_app(), where the providers' POSTs
    skip the router (app.main.FunrunApp) and must answer exactly the same.
    """
    app = webhook_app() if request.param == "routers" else _whole_app()
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def whole(committed_db: None, broker: Any) -> Iterator[TestClient]:
    """create_app() over a real database."""
    with TestClient(_whole_app(), raise_server_exceptions=False) as test_client:
        yield test_client
