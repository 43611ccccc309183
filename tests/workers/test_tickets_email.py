"""send_ticket by email: received by a local aiosmtpd server; sent once across a retried job."""

from __future__ import annotations

import email
import socket
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from core.config import get_settings
from core.db import unit_of_work
from core.fulfilment import paid
from core.models import OutboundMessage
from tests.core.test_tickets import NOW
from tests.factories import demo_event, make_registration
from tests.qr import decode_qr


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    yield inbox
    controller.stop()
    monkeypatch.delenv("SMTP_URL")
    get_settings.cache_clear()


def _paid_registration(address: str | None = "siti@example.com") -> tuple[int, str]:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        reg = make_registration(
            uow.session,
            event,
            channel="simulator",
            email=address,
            full_name="Siti Aminah",
            code="10K",
        )
        paid.mark_paid(uow.session, registration=reg, actor="t", now=NOW)
        return reg.id, reg.ticket_token or ""


def _drain(broker: Any, worker: Any) -> None:
    broker.join("default", timeout=20_000)
    broker.join("notifications", timeout=20_000)
    worker.join()


def test_ticket_email_is_received_once_across_a_retried_job(
    smtp_inbox: Inbox, broker: Any, worker: Any
) -> None:
    from workers.tickets import send_ticket

    registration_id, token = _paid_registration()
    send_ticket.send(registration_id)
    _drain(broker, worker)
    send_ticket.send(registration_id)  # a redelivered / retried job
    _drain(broker, worker)

    assert len(smtp_inbox.messages) == 1
    message = smtp_inbox.messages[0]
    assert message["To"] == "siti@example.com"
    assert "BIB 10001" in message["Subject"]
    attachments = list(message.iter_attachments())
    assert [a.get_content_type() for a in attachments] == ["image/png"]
    assert decode_qr(attachments[0].get_content()) == token
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(OutboundMessage).where(OutboundMessage.registration_id == registration_id)
        ).all()
        assert sorted((r.channel, r.status) for r in rows) == [
            ("email", "sent"),
            ("simulator", "sent"),
        ]


def test_failed_email_is_retried_and_visible(
    monkeypatch: pytest.MonkeyPatch, broker: Any, worker: Any
) -> None:
    from workers.tickets import send_ticket

    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{_free_port()}")  # nothing listens there
    get_settings.cache_clear()
    try:
        registration_id, _ = _paid_registration()
        send_ticket.send(registration_id)
        broker.join("default", timeout=20_000)
        row = _wait_for_error(registration_id)
    finally:
        monkeypatch.delenv("SMTP_URL")
        get_settings.cache_clear()
    assert row.status in ("pending", "sending") and row.attempts >= 1
    assert row.next_attempt_at is not None and "smtp" in (row.error or "")


def _wait_for_error(registration_id: int) -> OutboundMessage:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with unit_of_work() as uow:
            row = uow.session.scalar(
                select(OutboundMessage).where(
                    OutboundMessage.registration_id == registration_id,
                    OutboundMessage.channel == "email",
                )
            )
            if row is not None and row.error:
                return row
        time.sleep(0.05)
    raise AssertionError("the failed email was never recorded")


def test_no_email_without_address(smtp_inbox: Inbox, broker: Any, worker: Any) -> None:
    from workers.tickets import send_ticket

    registration_id, _ = _paid_registration(address=None)
    send_ticket.send(registration_id)
    _drain(broker, worker)
    assert smtp_inbox.messages == []
