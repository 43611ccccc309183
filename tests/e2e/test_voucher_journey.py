"""A code that makes the registration free, end to end on Telegram and on WhatsApp (Fonnte).

The runner gives the code (Telegram: at the code step; WhatsApp: ``KODE COMP`` at the first
question, kept at the code step), confirms, and gets the BIB and the e-ticket with no transfer
instructions and no payment step. Real app over HTTP, PostgreSQL, Redis + worker, fake providers.
"""

from __future__ import annotations

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import Channel, RegistrationStatus
from core.models import Payment, Voucher
from tests.answers import answers_for
from tests.channels.helpers import wait_until
from tests.e2e.test_full_journey import (
    Runner,
    TelegramRunner,
    only_registration,
    receive_ticket,
    runner,  # noqa: F401  (the fixture: one runner per channel)
    say,
    settled,
)


def _free_code(event_id: int) -> None:
    with unit_of_work() as uow:
        uow.session.add(
            Voucher(event_id=event_id, code="COMP", kind="percent", value=100, max_uses=5)
        )


def _answers(phone: Runner) -> list[str]:
    if isinstance(phone, TelegramRunner):
        return [
            "DAFTAR",
            *answers_for(Channel.TELEGRAM, email="free.tg@example.com", voucher="COMP"),
        ]
    keep = answers_for(Channel.WHATSAPP, email="free.wa@example.com", voucher="YA")
    return ["DAFTAR", "KODE COMP", *keep]


def test_a_free_code_goes_from_chat_to_ticket_without_payment(
    runner: Runner,  # noqa: F811  (the imported fixture: Telegram, then WhatsApp via Fonnte)
    demo_event: int,
) -> None:
    _free_code(demo_event)
    for text in _answers(runner):
        say(runner, text)
    summary = runner.texts()[-1]
    assert "Total bayar: *Rp0*" in summary or "Total bayar: <b>Rp0</b>" in summary, summary
    runner.confirm()
    wait_until(settled, what="confirmation")
    reg = only_registration()
    assert reg.status == RegistrationStatus.PAID.value and reg.bib and reg.price == 0
    token = receive_ticket(runner)
    assert token and token in (reg.ticket_token or "")
    texts = " ".join(runner.texts())
    assert "Silakan transfer" not in texts and "Rp0" in texts  # no transfer instructions
    assert "gratis dengan kode" in texts
    with get_sessionmaker()() as session:
        assert session.scalars(select(Payment)).all() == []
