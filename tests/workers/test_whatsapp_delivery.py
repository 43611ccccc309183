"""The outbox on the WhatsApp Cloud API: 24 h window, templates, waiting rows, error classes, pace."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.enums import Channel, OutboundStatus, RegistrationStatus
from core.messages import Choice, InboundMessage, Reply
from core.messaging import inbox, outbox, window
from core.models import AuditLog, InboundUpdate, OutboundMessage
from core.payments import deadlines
from tests.channels.helpers import count, outbound_rows, wa_post, wait_until, webhook_app
from tests.factories import demo_event, later, make_registration
from tests.fakes.graph_api import FakeGraph, inbound, text_message
from workers.delivery import deliver_after_commit

CLOUD = Channel.WHATSAPP_CLOUD.value
RUNNER = "6281298765432"
TEMPLATES = '{"payment_reminder": "funrun_payment_reminder", "ticket": "funrun_ticket"}'


@pytest.fixture
def cloud(
    fake_graph: FakeGraph, fast_limits: None, worker: Any, monkeypatch: pytest.MonkeyPatch
) -> FakeGraph:
    monkeypatch.setenv("WHATSAPP_MAX_PER_SECOND", "1000")
    get_settings.cache_clear()
    return fake_graph


@pytest.fixture
def templates(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_TEMPLATES", TEMPLATES)
    get_settings.cache_clear()


@pytest.fixture
def client(cloud: FakeGraph) -> Iterator[TestClient]:
    with TestClient(webhook_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def _runner_wrote(chat_id: str, *, hours_ago: float = 0.0) -> None:
    """The runner's message as the webhook stores it (the window opens at its receipt)."""
    message = InboundMessage(
        channel=Channel.WHATSAPP_CLOUD,
        external_id=f"wamid.{chat_id}.{time.time()}",
        chat_id=chat_id,
    )
    with unit_of_work() as uow:
        row = inbox.record_inbound(uow.session, message)
        assert row is not None
        row.received_at = utcnow() - timedelta(hours=hours_ago)
        row.processed_at = utcnow()


def _queue(recipient: str, *replies: Reply, key: str = "test") -> list[int]:
    with unit_of_work() as uow:
        rows = [
            outbox.write(
                uow.session,
                channel=CLOUD,
                recipient=recipient,
                reply=reply,
                idempotency_key=f"{key}:{recipient}:{n}",
            )
            for n, reply in enumerate(replies)
        ]
        deliver_after_commit(uow, rows)
        return [r.id for r in rows]


def _row(row_id: int) -> OutboundMessage:
    (row,) = outbound_rows(OutboundMessage.id == row_id)
    return row


def _reminder(chat_id: str) -> int:
    """A payment reminder (kind payment_reminder) for a Cloud API runner, queued for delivery."""
    with unit_of_work() as uow:
        registration = make_registration(
            uow.session, demo_event(uow.session), channel=CLOUD, chat_id=chat_id,
            status=RegistrationStatus.PENDING_PAYMENT, amount="assign",
        )  # fmt: skip
        (row,) = deadlines.send_reminders(uow.session, now=later(21))
        assert row.registration_id == registration.id
        deliver_after_commit(uow, [row])
        return row.id


def test_replies_inside_the_window_go_out_free_form(cloud: FakeGraph) -> None:
    _runner_wrote(RUNNER)
    sizes = tuple(Choice(s, s) for s in ("S", "M", "L", "XL"))
    ids = _queue(RUNNER, Reply("Halo"), Reply("Ukuran jersey?", choices=sizes))
    wait_until(lambda: all(_row(i).status == OutboundStatus.SENT for i in ids))
    first, second = cloud.to(RUNNER)
    assert first.type == "text" and second.body["interactive"]["type"] == "list"
    assert _row(ids[0]).provider_message_id == first.id


def test_a_reminder_outside_the_window_goes_out_as_its_template(
    cloud: FakeGraph, templates: None
) -> None:
    _runner_wrote(RUNNER, hours_ago=30)
    row_id = _reminder(RUNNER)
    wait_until(lambda: _row(row_id).status == OutboundStatus.SENT)
    (sent,) = cloud.to(RUNNER)
    template = sent.body["template"]
    assert template["name"] == "funrun_payment_reminder" and template["language"]["code"] == "id"
    params = [p["text"] for p in template["components"][0]["parameters"]]
    assert len(params) == 4 and params[2].startswith("Rp") and "WIB" in params[3]


def test_a_kind_without_a_template_waits_for_the_runners_next_message(
    cloud: FakeGraph, client: TestClient
) -> None:
    row_id = _reminder(RUNNER)
    wait_until(lambda: _row(row_id).status == OutboundStatus.WAITING)
    assert cloud.to(RUNNER) == []
    with unit_of_work() as uow:
        reasons = window.waiting_by_reason(uow.session)
    assert reasons == [("outside the 24-hour window, no template for payment_reminder", 1)]
    body = inbound(text_message("wamid.next1", RUNNER, "halo"))
    assert wa_post(client, body).status_code == 200
    wait_until(lambda: _row(row_id).status == OutboundStatus.SENT)
    assert [s.type for s in cloud.to(RUNNER)][0] == "text"  # free-form again, in the window


def test_metas_131047_switches_to_the_template(cloud: FakeGraph, templates: None) -> None:
    _runner_wrote(RUNNER)  # our clock says open, Meta says closed
    cloud.closed_windows.add(RUNNER)
    row_id = _reminder(RUNNER)
    wait_until(lambda: _row(row_id).status == OutboundStatus.SENT)
    assert [s.type for s in cloud.to(RUNNER)] == ["template"]
    assert _row(row_id).extra["force_template"] is True


def test_a_bad_token_stops_sending_without_a_retry_storm(cloud: FakeGraph) -> None:
    cloud.token = "revoked"
    runners = [f"62812000000{n}" for n in range(3)]
    for runner in runners:
        _runner_wrote(runner)
    ids = [i for r in runners for i in _queue(r, Reply("halo"))]
    wait_until(lambda: all(_row(i).next_attempt_at is not None for i in ids))
    time.sleep(1.0)
    assert cloud.sent == [] and cloud.attempts <= 3  # at most the sends already in flight
    assert all(_row(i).status == OutboundStatus.PENDING for i in ids)
    assert all(_row(i).next_attempt_at > utcnow() + timedelta(minutes=10) for i in ids)
    assert count(AuditLog, AuditLog.action == "whatsapp.stopped") == 1


def test_undeliverable_fails_with_metas_reason(cloud: FakeGraph) -> None:
    _runner_wrote(RUNNER)
    cloud.fail_next(131026)
    bad, good = _queue(RUNNER, Reply("satu"), Reply("dua"))
    wait_until(lambda: _row(good).status == OutboundStatus.SENT)
    assert _row(bad).status == OutboundStatus.FAILED and "#131026" in (_row(bad).error or "")


@pytest.mark.parametrize("code", [130429, 131056, 131000])
def test_throughput_pair_rate_and_server_errors_are_retried(cloud: FakeGraph, code: int) -> None:
    _runner_wrote(RUNNER)
    cloud.fail_next(code)
    (row_id,) = _queue(RUNNER, Reply("halo"))
    wait_until(lambda: _row(row_id).status == OutboundStatus.SENT, timeout=30)
    # A rate limit is pacing, not a failed attempt (as for Telegram's 429); a 5xx is an attempt.
    attempts = 1 if code in (130429, 131056) else 2
    assert _row(row_id).attempts == attempts and len(cloud.to(RUNNER)) == 1


def test_sends_keep_to_the_numbers_pace(cloud: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHATSAPP_MAX_PER_SECOND", "10")
    get_settings.cache_clear()
    cloud.set_pace(10)
    runners = [f"6281300000{n:03d}" for n in range(30)]
    with unit_of_work() as uow:
        uow.session.execute(update(InboundUpdate).values(processed_at=utcnow()))
    for runner in runners:
        _runner_wrote(runner)
    started = time.monotonic()
    ids = [i for r in runners for i in _queue(r, Reply("halo"))]
    wait_until(lambda: all(_row(i).status == OutboundStatus.SENT for i in ids), timeout=30)
    assert cloud.rejected == 0  # never over Meta's pace
    assert time.monotonic() - started >= 1.5  # 30 messages at 10/s after a burst of 10


def test_a_ticket_outside_the_window_is_its_template_with_the_image_header(
    cloud: FakeGraph, templates: None
) -> None:
    media = get_settings().media_dir
    (media / "tickets").mkdir(parents=True, exist_ok=True)
    (media / "tickets" / "late.png").write_bytes(b"\x89PNG late ticket")
    with unit_of_work() as uow:
        registration = make_registration(
            uow.session, demo_event(uow.session), channel=CLOUD, chat_id=RUNNER
        )
        registration.bib = "5K-1001"
        row = outbox.write(
            uow.session, channel=CLOUD, recipient=RUNNER, registration_id=registration.id,
            reply=Reply("Tiket", image_path="tickets/late.png", kind="ticket"),
            idempotency_key=f"ticket:{registration.id}:1",
        )  # fmt: skip
        deliver_after_commit(uow, [row])
        row_id = row.id
    wait_until(lambda: _row(row_id).status == OutboundStatus.SENT)
    (sent,) = cloud.to(RUNNER)
    header, body = sent.body["template"]["components"]
    assert sent.body["template"]["name"] == "funrun_ticket"
    assert cloud.uploads[header["parameters"][0]["image"]["id"]] == b"\x89PNG late ticket"
    assert [p["text"] for p in body["parameters"]][2] == "5K-1001"


def test_a_status_that_overtakes_its_send_is_parked_then_applied(
    cloud: FakeGraph, client: TestClient
) -> None:
    from core.models import EarlyReceipt
    from tests.fakes.graph_api import status_event

    _runner_wrote(RUNNER)
    wamid = f"wamid.HBgN{len(cloud.sent) + 1:012d}"  # the id the fake hands out next
    assert wa_post(client, status_event(wamid, RUNNER, "delivered")).status_code == 200
    assert count(EarlyReceipt) == 1  # kept, not dropped
    (row_id,) = _queue(RUNNER, Reply("halo"))
    wait_until(lambda: _row(row_id).delivery_status == "delivered")
    assert _row(row_id).provider_message_id == wamid and count(EarlyReceipt) == 0


def test_the_bad_token_pause_is_shared_by_every_process(cloud: FakeGraph) -> None:
    from workers import whatsapp

    assert whatsapp.pause_everywhere(60.0) is True
    assert whatsapp.pause_everywhere(60.0) is False  # only the first one alerts
    whatsapp._paused_until = 0.0  # another process: nothing in its own memory  # noqa: SLF001
    assert 50 < whatsapp.paused_for() <= 60  # read from Redis
    whatsapp.resume()
    assert whatsapp.paused_for() == 0.0
