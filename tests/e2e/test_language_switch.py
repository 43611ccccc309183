"""The chat's current language wins: register in Indonesian, switch to English, get approved.

Every later message (photo acknowledgement, approval notice, e-ticket caption and the ticket image)
is in English on both channels, through the real webhooks, worker and fake providers.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db import get_sessionmaker
from core.models import OutboundMessage
from tests.channels.helpers import wait_until
from tests.e2e.test_full_journey import (
    approve_in_admin,
    only_registration,
    receive_ticket,
    register,
    runner,  # noqa: F401 (the per-channel runner fixture)
    say,
    settled,
    transfer_screenshot,
    wait_for_text,
)


def _ticket_image_path() -> str:
    with get_sessionmaker()() as session:
        row = session.scalars(select(OutboundMessage).where(OutboundMessage.kind == "ticket")).one()
        return row.media_path or ""


def test_after_language_every_later_message_is_english(runner: Any, live_server: str) -> None:  # noqa: F811
    reg = register(runner)
    assert reg.language == "id"
    say(runner, "LANGUAGE")
    wait_for_text(runner, lambda t: "English" in t, "language switched")

    runner.send_photo(transfer_screenshot())
    wait_until(settled, what="photo processed")
    wait_for_text(
        runner, lambda t: "We received the transfer proof" in t, "English acknowledgement"
    )

    before = len(runner.texts())
    approve_in_admin(live_server)
    receive_ticket(runner)
    later = runner.texts()[before:]
    assert any("We received your payment" in t and reg.number in t for t in later), later
    assert any("Payment verified!" in t for t in later), later
    assert not any("Pembayaran" in t or "TIKET" in t for t in later), later
    assert "-en-" in _ticket_image_path()  # the ticket image is rendered with English labels
    assert only_registration().language == "id"  # the registration keeps its original record
