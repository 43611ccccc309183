"""Broadcast delivery: the batch job on the real worker, bulk priority, the WhatsApp Cloud API
template outside the 24-hour window, and two jobs writing one broadcast at once."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work
from core.enums import Channel, OutboundStatus, RegistrationStatus
from core.messaging import broadcasts
from core.models import BroadcastRecipient, OutboundMessage
from tests.channels.helpers import wait_until
from tests.factories import demo_event, make_registration
from tests.fakes.graph_api import FakeGraph
from workers.broadcasts import write_broadcast

CLOUD = Channel.WHATSAPP_CLOUD.value
RUNNER = "6281298760001"


@pytest.fixture
def cloud(
    fake_graph: FakeGraph, fast_limits: None, worker: Any, monkeypatch: pytest.MonkeyPatch
) -> FakeGraph:
    monkeypatch.setenv("WHATSAPP_MAX_PER_SECOND", "1000")
    monkeypatch.setenv("WHATSAPP_TEMPLATES", '{"broadcast": "funrun_announcement"}')
    get_settings.cache_clear()
    return fake_graph


def _broadcast(chat_ids: list[str], channel: str = CLOUD) -> int:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        for chat_id in chat_ids:
            make_registration(uow.session, event, channel=channel, chat_id=chat_id,
                              status=RegistrationStatus.PAID)  # fmt: skip
        return broadcasts.create(uow.session, event_id=event.id, segment="paid", actor="admin",
                                 text="Race day:\nstart 05:30 at *Monas*").id  # fmt: skip


def _status(broadcast_id: int) -> dict[str, Any]:
    with get_sessionmaker()() as session:
        return broadcasts.progress(session, broadcast_id)


def test_outside_the_window_a_broadcast_goes_out_as_its_template(cloud: FakeGraph) -> None:
    broadcast_id = _broadcast([RUNNER])  # the runner never wrote to this number: no window
    write_broadcast.send(broadcast_id)
    wait_until(lambda: _status(broadcast_id)["done"], what="broadcast sent")
    (sent,) = cloud.to(RUNNER)
    template = sent.body["template"]
    assert template["name"] == "funrun_announcement"
    params = [p["text"] for p in template["components"][0]["parameters"]]
    assert "\n" not in params[2] and "start 05:30" in params[2]  # Meta refuses line breaks


def test_two_jobs_writing_one_broadcast_write_each_chat_once(committed_db: None) -> None:
    chats = [f"62812000{n:05d}" for n in range(30)]
    broadcast_id = _broadcast(chats, channel=Channel.WHATSAPP.value)
    errors: list[BaseException] = []

    def job() -> None:
        try:
            while True:
                with unit_of_work() as uow:
                    if broadcasts.write_batch(uow.session, broadcast_id, limit=7).done:
                        return
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=job) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    with get_sessionmaker()() as session:
        rows = session.scalar(select(func.count()).select_from(BroadcastRecipient)) or 0
        outbound = session.scalars(select(OutboundMessage.status)).all()
    assert rows == 30 and len(outbound) == 30
    assert set(outbound) == {OutboundStatus.PENDING.value}
    assert _status(broadcast_id)["written"] == 30
