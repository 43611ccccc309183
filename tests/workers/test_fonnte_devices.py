"""Several Fonnte numbers: each runner is answered by the number they wrote to, paced per number."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.config import get_settings
from core.db import unit_of_work
from core.enums import Channel, OutboundStatus
from core.messages import Reply
from core.messaging import outbox
from core.models import Conversation, OutboundMessage
from tests.channels.helpers import fixture, fonnte_path, outbound_rows, wait_until
from workers.delivery import buckets_for, deliver_after_commit

DEVICES = {"628111000111": "token-device-a", "628222000222": "token-device-b"}


@pytest.fixture
def devices(channels: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("FONNTE_DEVICES", json.dumps(DEVICES))
    get_settings.cache_clear()
    _telegram, fonnte = channels
    fonnte.device_tokens = set(DEVICES.values())
    return fonnte


def test_each_runner_is_answered_by_the_number_they_wrote_to(
    devices: Any, client: TestClient
) -> None:
    runners = {"6281300000001": "628111000111", "6281300000002": "628222000222"}
    for n, (runner, device) in enumerate(runners.items()):
        body = fixture(
            "fonnte", "text", sender=runner, device=device, message="halo", inboxid=900 + n
        )
        assert client.post(fonnte_path(), json=body).status_code == 200
    for runner, device in runners.items():
        devices.wait_for(lambda f, r=runner: bool(f.sent(r)))
        assert {s.authorization for s in devices.sent(runner)} == {DEVICES[device]}
    with unit_of_work() as uow:
        stored = dict(uow.session.execute(select(Conversation.chat_id, Conversation.device)).all())
    assert stored == runners


def test_each_number_has_its_own_pace() -> None:
    settings = get_settings()
    a, b = (OutboundMessage(channel="whatsapp", recipient="62813", extra={"device": d}, priority=5)
            for d in DEVICES)  # fmt: skip
    keys_a = {bucket.key for bucket in buckets_for(settings, a)}
    keys_b = {bucket.key for bucket in buckets_for(settings, b)}
    assert "wa:628111000111:all" in keys_a and not keys_a & keys_b


def test_a_channel_without_a_token_fails_once_with_a_clear_reason(
    channels: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FONNTE_TOKEN", "")
    get_settings.cache_clear()
    with unit_of_work() as uow:
        row = outbox.write(
            uow.session, channel=Channel.WHATSAPP.value, recipient="6281300000009",
            reply=Reply(text="halo"), idempotency_key="test:no-token",
        )  # fmt: skip
        deliver_after_commit(uow, [row])
        row_id = row.id
    wait_until(
        lambda: outbound_rows(OutboundMessage.id == row_id)[0].status == OutboundStatus.FAILED
    )
    (failed,) = outbound_rows(OutboundMessage.id == row_id)
    assert failed.attempts == 1 and "FONNTE_TOKEN" in (failed.error or "")
    _telegram, fonnte = channels
    assert fonnte.sent("6281300000009") == []
