"""A group of three with one payment, end to end on Telegram and on WhatsApp (Fonnte).

The leader types DAFTAR GRUP, answers the flow for three runners (YA after each for the next,
SELESAI at the end), gets ONE amount with one unique code for all three, sends ONE screenshot; the
organiser approves the one queue item; one message listing the three BIBs, then three e-tickets
arrive in the leader's chat.
On Telegram the event also sends each runner's own copy to the WhatsApp number they gave.
Real app over HTTP, PostgreSQL, Redis + worker, fake providers.
"""

from __future__ import annotations

import re
from contextlib import closing

from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import Channel, RegistrationStatus, Role
from core.formatting import rupiah
from core.models import Event, OutboundMessage, Registration, RegistrationGroup
from tests.answers import answers_for
from tests.channels.helpers import wait_until
from tests.e2e.conftest import staff_login
from tests.e2e.test_full_journey import (
    PASSWORD,
    XHR,
    Runner,
    TelegramRunner,
    make_staff,
    runner,  # noqa: F401  (the fixture: one runner per channel)
    say,
    settled,
    transfer_screenshot,
)
from tests.qr import decode_qr

NAMES = ("Siti Aminah", "Budi Hartono", "Rina Wulandari")
OWN_PHONES = ("081311110001", "081311110002", "081311110003")


def _runner_answers(phone: Runner, n: int) -> list[str]:
    channel = Channel.TELEGRAM if isinstance(phone, TelegramRunner) else Channel.WHATSAPP
    own = {"phone": OWN_PHONES[n]} if channel == Channel.TELEGRAM else {}
    return answers_for(channel, full_name=NAMES[n], email=f"group{n}.{channel.value}@example.com",
                       **own)  # fmt: skip


def _members() -> list[Registration]:
    with get_sessionmaker()() as session:
        regs = list(session.scalars(select(Registration).order_by(Registration.id)))
        for reg in regs:
            _ = reg.participant, reg.category
        return regs


def _approve_the_one_queue_item(base_url: str) -> None:
    make_staff("group-verifier@example.com", Role.VERIFIER)
    client, csrf = staff_login(base_url, "group-verifier@example.com", PASSWORD)
    with closing(client):
        queue = client.get("/admin/queue").text
        items = set(re.findall(r'data-payment-id="(\d+)"', queue))
        assert len(items) == 1, "a group payment is one item in the queue"
        r = client.post(f"/admin/payments/{items.pop()}/approve",
                        headers={**XHR, "x-csrf-token": csrf})  # fmt: skip
        assert r.status_code == 200 and r.json()["changed"] is True, r.text


def test_a_group_of_three_with_one_payment(
    runner: Runner,  # noqa: F811  (the imported fixture: Telegram, then WhatsApp via Fonnte)
    demo_event: int,
    live_server: str,
) -> None:
    with unit_of_work() as uow:
        uow.session.get(Event, demo_event).group_tickets_to_members = True
    say(runner, "DAFTAR GRUP")
    for n in range(3):
        for text in _runner_answers(runner, n):
            say(runner, text)
        say(runner, "YA")  # the summary's YES (typed: three summaries stand in the chat)
        assert any(f"Pelari {n + 1} ditambahkan" in t for t in runner.texts()), runner.texts()[-3:]
        say(runner, "YA" if n < 2 else "SELESAI")
    regs = _members()
    assert len(regs) == 3 and len({r.group_id for r in regs}) == 1 and regs[0].group_id
    with get_sessionmaker()() as session:
        group = session.get(RegistrationGroup, regs[0].group_id)
        assert group is not None and 1 <= group.unique_code <= 999
        total = group.amount_due
    assert total == sum(r.price for r in regs) + group.unique_code
    instructions = runner.texts()[-1]
    assert rupiah(total) in instructions and all(name in instructions for name in NAMES)
    assert sum("Silakan transfer" in t for t in runner.texts()) == 1  # one amount, not three

    runner.send_photo(transfer_screenshot())
    wait_until(settled, what="photo processed")
    assert {r.status for r in _members()} == {RegistrationStatus.AWAITING_VERIFICATION.value}

    _approve_the_one_queue_item(live_server)
    wait_until(lambda: len(runner.photos()) >= 3, what="three e-tickets")
    wait_until(settled, what="tickets delivered")
    paid = _members()
    assert {r.status for r in paid} == {RegistrationStatus.PAID.value}
    assert len({r.bib for r in paid}) == 3 and all(r.bib for r in paid)
    texts = runner.texts()  # one message with every BIB, no "payment verified" per runner
    assert sum("Pembayaran grup sebesar" in t for t in texts) == 1, texts[-5:]
    assert all(r.bib in next(t for t in texts if "Pembayaran grup sebesar" in t) for r in paid)
    assert not any("E-tiket Anda segera dikirim" in t for t in texts)
    tokens = {decode_qr(png) for png in runner.photos()}
    assert tokens == {r.ticket_token for r in paid}  # each runner's own ticket, once
    with get_sessionmaker()() as session:
        copies = session.scalars(
            select(OutboundMessage.recipient).where(
                OutboundMessage.idempotency_key.like("ticket-member:%")
            )
        ).all()
    if isinstance(runner, TelegramRunner):  # the runners' own WhatsApp numbers got their copy
        assert sorted(copies) == sorted("62" + p[1:] for p in OWN_PHONES)
    else:  # on WhatsApp every runner gave the leader's number: the leader's copy is enough
        assert copies == []
