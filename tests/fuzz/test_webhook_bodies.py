"""Hypothesis on the raw bodies of every webhook: 2xx/4xx (Fonnte: 200), never a 500 or a bad row.

The class found here (docs/FUZZING.md): bodies Python's json reads but storage or parsing cannot —
deep nesting (RecursionError), NaN/Infinity/1e400, lone surrogates, out-of-range timestamps.
"""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st

from core.messages import InboundMessage
from core.models import Conversation, InboundUpdate
from tests.channels.helpers import count, fonnte_path, inbound_rows, tg_headers
from tests.fuzz.conftest import budget
from tests.fuzz.strategies import VERY_DEEP, bodies

JSON = {"Content-Type": "application/json"}


def _rows_are_whole() -> None:
    """Every stored delivery has its conversation and a message the worker can read back."""
    for row in inbound_rows():
        assert row.conversation_id is not None
        InboundMessage.from_json(row.message)
    assert count(Conversation) <= max(1, count(InboundUpdate))


def _no_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info], "an exception was logged"
    caplog.clear()


def test_telegram_any_body(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)

    @budget()
    @given(body=bodies("telegram"))
    @example(body=VERY_DEEP[0])
    @example(body=VERY_DEEP[1])
    def run(body: bytes) -> None:
        before = count(InboundUpdate)
        response = client.post("/webhooks/telegram", content=body, headers={**tg_headers(), **JSON})
        assert response.status_code in (200, 400), (response.status_code, body[:200])
        if response.status_code == 400:
            assert count(InboundUpdate) == before
        _no_tracebacks(caplog)

    run()
    _rows_are_whole()


def test_fonnte_any_body(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)

    @budget()
    @given(body=bodies("fonnte"), form=st.booleans())
    @example(body=VERY_DEEP[0], form=False)
    @example(body=VERY_DEEP[1], form=False)
    @example(body=b"sender=" + b"6" * 2_000_000, form=True)
    def run(body: bytes, form: bool) -> None:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else JSON
        response = client.post(fonnte_path(), content=body, headers=headers)
        assert response.status_code == 200, (response.status_code, body[:200])
        assert response.json()["status"] is True
        _no_tracebacks(caplog)

    run()
    _rows_are_whole()
