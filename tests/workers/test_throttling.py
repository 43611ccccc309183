"""Sending pace end to end: the real worker, the shared Redis limiter and the fake providers.

The limiter itself is tested in test_ratelimit.py; here the default limits (Telegram ≈1 message/s
per chat, Fonnte FONNTE_MAX_PER_SECOND per device) are observed from the provider's side, and a
reply to a runner who just wrote overtakes reminders already waiting for the device.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.config import get_settings
from core.db import unit_of_work
from core.enums import Channel, OutboundStatus
from core.messages import Reply
from core.messaging import outbox
from core.models import OutboundMessage
from tests.channels.helpers import count, wait_until
from workers.delivery import deliver_after_commit


@pytest.fixture
def paced(fake_telegram: Any, fake_fonnte: Any, worker: Any, monkeypatch: Any) -> Any:
    """Fake providers and a real worker with the production default limits."""
    for name in (
        "TELEGRAM_CHAT_MAX_PER_SECOND",
        "TELEGRAM_MAX_PER_SECOND",
        "FONNTE_MAX_PER_SECOND",
    ):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    return fake_telegram, fake_fonnte


def _queue(channel: Channel, recipients: list[str], *, priority: int, tag: str) -> None:
    with unit_of_work() as uow:
        rows = [
            outbox.write(
                uow.session,
                channel=channel.value,
                recipient=recipient,
                reply=Reply(text=f"{tag} {n}"),
                idempotency_key=f"pace:{tag}:{n}:{recipient}",
                priority=priority,
            )
            for n, recipient in enumerate(recipients)
        ]
        deliver_after_commit(uow, rows)


def _all_sent() -> bool:
    return count(OutboundMessage, OutboundMessage.status != OutboundStatus.SENT) == 0


def _span(times: list[float]) -> float:
    return max(times) - min(times)


def test_one_telegram_chat_is_paced_to_about_one_message_a_second(paced: Any) -> None:
    fake_telegram, _ = paced
    settings = get_settings()
    assert settings.telegram_chat_max_per_second == 0.9
    _queue(Channel.TELEGRAM, ["777"] * 6, priority=outbox.PRIORITY_REPLY, tag="balasan")
    wait_until(_all_sent, what="six replies sent", timeout=30)
    calls = [c for c in fake_telegram.requests("sendMessage") if str(c.params["chat_id"]) == "777"]
    assert [c.params["text"] for c in calls] == [f"balasan {n}" for n in range(6)]
    # A burst of three, then one a second: six messages need at least ~3 s.
    assert _span([c.at for c in calls]) >= 2.5


def test_fonnte_device_is_paced_and_replies_overtake_reminders(paced: Any) -> None:
    _, fake_fonnte = paced
    assert get_settings().fonnte_max_per_second == 1.0
    reminded = [f"62812000000{n:02d}" for n in range(5)]
    _queue(Channel.WHATSAPP, reminded, priority=outbox.PRIORITY_REMINDER, tag="pengingat")
    _queue(Channel.WHATSAPP, ["6281299999999"], priority=outbox.PRIORITY_REPLY, tag="balasan")
    wait_until(_all_sent, what="reminders and the reply sent", timeout=40)
    calls = sorted(fake_fonnte.sent(), key=lambda c: c.at)
    texts = [c.params["message"] for c in calls]
    assert sorted(texts) == sorted([f"pengingat {n}" for n in range(5)] + ["balasan 0"])
    # One device, one message a second after a small burst: six messages need at least ~3 s ...
    assert _span([c.at for c in calls]) >= 2.5
    # ... and the runner who just wrote is not kept waiting behind the reminders.
    assert texts.index("balasan 0") <= 2, texts


def test_replies_to_many_chats_are_not_paced_by_the_device_like_reminders(paced: Any) -> None:
    _, fake_fonnte = paced
    replied = [f"62813000000{n:02d}" for n in range(6)]
    reminded = [f"62814000000{n:02d}" for n in range(6)]
    _queue(Channel.WHATSAPP, replied, priority=outbox.PRIORITY_REPLY, tag="balasan")
    wait_until(_all_sent, what="six replies sent", timeout=30)
    _queue(Channel.WHATSAPP, reminded, priority=outbox.PRIORITY_REMINDER, tag="pengingat")
    wait_until(_all_sent, what="six reminders sent", timeout=40)
    calls = fake_fonnte.sent()
    replies = [c.at for c in calls if c.params["message"].startswith("balasan")]
    reminders = [c.at for c in calls if c.params["message"].startswith("pengingat")]
    # Replies wait on their own chat only; reminders share the device's 1/s.
    assert _span(replies) < 0.5 * _span(reminders), (_span(replies), _span(reminders))
