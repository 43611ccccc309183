"""The waiting list end to end on Telegram and on WhatsApp (Fonnte), through the webhooks.

The 5K is sold out; the runner picks it, is offered the waiting list, replies ANTRE. A slot freed
by an expired registration is offered (held) to the first runner waiting: accepted with YA, the
runner goes on from the saved answers to the summary and gets payment instructions. A hold left to
lapse goes to the next runner. Real app over HTTP, PostgreSQL, Redis + worker, fake providers.
"""

from __future__ import annotations

import copy
import itertools
from datetime import timedelta

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Channel, RegistrationStatus
from core.formatting import rupiah
from core.models import Event, Registration
from core.models.waitlist import WaitlistEntry
from tests import factories as f
from tests.answers import answers_for
from tests.channels.helpers import wait_until
from tests.e2e.test_full_journey import (
    Runner,
    TelegramRunner,
    runner,  # noqa: F401  (the fixture: one runner per channel)
    say,
    settled,
    wait_for_text,
)
from workers import payments
from workers.waitlist import lapse_once


def _sell_out(event_id: int) -> int:
    """Fill the 5K; one of its registrations is unpaid past its deadline. Return that one's id."""
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        unpaid = f.make_registration(uow.session, event, code="5K",
                                     status=RegistrationStatus.PENDING_PAYMENT,
                                     expires_at=utcnow() - timedelta(minutes=1))  # fmt: skip
        cat = f.category(uow.session, event, "5K")
        cat.quota = cat.slots_taken
        return unpaid.id


def _rest(phone: Runner) -> list[str]:
    channel = Channel.TELEGRAM if isinstance(phone, TelegramRunner) else Channel.WHATSAPP
    answers = answers_for(channel, email=f"wait-{f.suffix()}@example.com")
    assert answers[0] == "5K"  # the demo event asks the category first
    return answers[1:]


def _join(phone: Runner) -> None:
    say(phone, "DAFTAR")
    say(phone, "5K")
    assert any("ANTRE" in t for t in phone.texts()[-2:]), phone.texts()[-2:]
    say(phone, "ANTRE")
    assert "daftar tunggu" in phone.texts()[-1]


def _second(phone: Runner) -> Runner:
    other = copy.copy(phone)
    other.chat_id = 555000333 if isinstance(phone, TelegramRunner) else "6281233336666"
    other._ids = itertools.count(660000)  # noqa: SLF001  (a second phone: its own update ids)
    return other


def _entries() -> list[WaitlistEntry]:
    with get_sessionmaker()() as session:
        return list(session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.position)))


def test_an_offer_accepted_ends_in_payment_instructions(
    runner: Runner,  # noqa: F811  (the imported fixture: Telegram, then WhatsApp via Fonnte)
    demo_event: int,
) -> None:
    _sell_out(demo_event)
    _join(runner)
    say(runner, "ANTREAN")
    assert "posisi *1*" in runner.texts()[-1] or "posisi <b>1</b>" in runner.texts()[-1]
    payments.expire_once()  # the unpaid 5K expires: its slot is offered to the runner
    offer = wait_for_text(runner, lambda t: "ditahan untuk Anda" in t, "the offer")
    assert "5K" in offer
    say(runner, "YA")
    assert "nama lengkap" in runner.texts()[-1]  # the category is kept: on to the next question
    for text in _rest(runner):
        say(runner, text)
    wait_until(settled, what="summary")
    runner.confirm()
    wait_until(settled, what="confirmation")
    with get_sessionmaker()() as session:
        reg = session.scalars(
            select(Registration).where(Registration.chat_id == str(runner.chat_id))
        ).one()
    assert reg.status == RegistrationStatus.PENDING_PAYMENT.value
    wait_for_text(runner, lambda t: rupiah(reg.amount_due) in t, "payment instructions")
    [entry] = _entries()
    assert entry.status == "registered" and entry.registration_id == reg.id


def test_an_offer_that_lapses_goes_to_the_next_runner(
    runner: Runner,  # noqa: F811
    demo_event: int,
) -> None:
    _sell_out(demo_event)
    second = _second(runner)
    _join(runner)
    _join(second)
    payments.expire_once()
    wait_for_text(runner, lambda t: "ditahan untuk Anda" in t, "the first offer")
    assert not any("ditahan untuk Anda" in t for t in second.texts())
    lapse_once(now=utcnow() + timedelta(hours=13))  # the 12 h hold runs out unanswered
    wait_for_text(runner, lambda t: "pelari berikutnya" in t, "the lapse notice")
    wait_for_text(second, lambda t: "ditahan untuk Anda" in t, "the second offer")
    say(runner, "YA")  # too late: no hold left, so YA only brings the menu
    assert [e.status for e in _entries()] == ["lapsed", "offered"]
    say(second, "YA")
    assert [e.status for e in _entries()] == ["lapsed", "accepted"]
