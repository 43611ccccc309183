"""Hypothesis on the inbound normalisers (pure): any JSON object -> a message, None or Malformed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from channels import wire
from channels.fonnte import inbound as fonnte
from channels.telegram import inbound as telegram
from tests.fuzz.conftest import budget
from tests.fuzz.strategies import json_values, mutated

RECEIVED = datetime(2026, 1, 1, tzinfo=UTC)
objects = st.one_of(json_values, st.dictionaries(st.text(max_size=12), json_values, max_size=6))


def _check(parse: Any, malformed: type[Exception], payload: Any) -> None:
    try:
        message = parse(payload, received_at=RECEIVED)
    except malformed:
        return
    if message is not None:
        assert wire.well_typed(message)
        assert message.to_json()  # what the inbox stores must serialise


@budget()
@given(payload=st.one_of(objects, mutated("telegram")))
def test_telegram_parse_total(payload: Any) -> None:
    _check(telegram.parse, telegram.MalformedUpdate, payload)


@budget()
@given(payload=st.one_of(objects, mutated("fonnte")))
@example(payload={"sender": "\x00", "message": "halo"})  # a sender of only NULs is no sender
def test_fonnte_parse_total(payload: Any) -> None:
    _check(fonnte.parse, fonnte.MalformedPayload, payload)


@budget()
@given(body=st.one_of(st.binary(max_size=300), json_values.map(str), st.text(max_size=50)))
def test_wire_loads_raises_only_malformed(body: Any) -> None:
    try:
        wire.check(wire.loads(body))
    except wire.MalformedBody:
        pass


def test_wire_refuses_what_storage_cannot_hold() -> None:
    for body in (b"[" * 100_000, b'{"a": NaN}', b'{"a": Infinity}', b"[1e400]", b'["\\ud800"]'):
        try:
            wire.loads(body)
        except wire.MalformedBody:
            continue
        raise AssertionError(body[:40])
    assert wire.loads(b'{"a": ["\\ud83c\\udfc3", 1.5]}') == {"a": ["\U0001f3c3", 1.5]}
