"""Changes after registration end to end on Telegram and WhatsApp (Fonnte), through the webhooks:
a paid runner changes the jersey size (new ticket), then transfers the registration to a friend;
the old QR is refused at check-in as "transferred" and the new one admits the new holder.
"""

from __future__ import annotations

import re
from contextlib import closing
from datetime import timedelta
from typing import Any

import httpx

from core.db import unit_of_work, utcnow
from core.enums import Role
from core.models import Event
from tests.channels.helpers import wait_until
from tests.e2e.conftest import CSRF_META, staff_login
from tests.e2e.test_full_journey import (
    PASSWORD,
    Runner,
    TelegramRunner,
    approve_in_admin,
    make_staff,
    only_registration,
    pay,
    register,
    runner,  # noqa: F401  (the fixture: one runner per channel)
    say,
    settled,
)
from tests.qr import decode_qr

FRIEND = "Budi Santoso\nL\n17-08-1990\nbudi.friend@example.com\n081299887766\nAni\n081311112222"
FRIEND_CHAT = "6281299887766"


def _open_changes(event_id: int) -> None:
    with unit_of_work() as uow:
        uow.session.get(Event, event_id).changes_until = utcnow() + timedelta(days=5)


def _scan(client: httpx.Client, code: str, nonce: str) -> dict[str, Any]:
    page = client.get("/checkin").text
    csrf, event_id = CSRF_META.search(page), re.search(r'name="event_id" value="(\d+)"', page)
    assert csrf and event_id, page[:500]
    headers = {"X-CSRF-Token": csrf.group(1), "Accept": "application/json"}
    data = {"code": code, "nonce": nonce, "event_id": event_id.group(1)}
    r = client.post("/checkin/scan", data=data, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _photos(phone: Runner, count: int) -> list[bytes]:
    wait_until(lambda: len(phone.photos()) >= count, what=f"{count} ticket photo(s)")
    wait_until(settled, what="tickets settled")
    return phone.photos()


def test_jersey_change_and_transfer_in_the_chat(runner: Runner, live_server: str) -> None:  # noqa: F811
    reg = register(runner)
    pay(runner, reg)
    approve_in_admin(live_server)
    old_token = decode_qr(_photos(runner, 1)[-1])
    _open_changes(reg.event_id)

    say(runner, "UBAH JERSEY XL")
    assert "menjadi *XL*" in runner.texts()[-2] or "menjadi <b>XL</b>" in runner.texts()[-2]
    assert only_registration().participant.jersey_size == "XL"
    assert decode_qr(_photos(runner, 2)[-1]) == old_token  # same holder: the same QR, new size

    say(runner, "ALIHKAN")
    assert "Nama lengkap" in runner.texts()[-1]
    say(runner, FRIEND)
    assert "Budi Santoso" in runner.texts()[-1]
    say(runner, "YA")
    assert "sudah dialihkan" in " ".join(runner.texts()[-2:])
    moved = only_registration()
    assert moved.participant.full_name == "Budi Santoso" and moved.ticket_token != old_token
    if isinstance(runner, TelegramRunner):  # no number to write to: the old chat passes it on
        new_token = decode_qr(_photos(runner, 3)[-1])
    else:  # WhatsApp: the friend's own number is told and gets the ticket
        wait_until(lambda: bool(runner.fake.sent(FRIEND_CHAT)), what="message to the new holder")
        wait_until(settled, what="new holder's messages")
        assert any("atas nama Anda" in t for t in runner.fake.sent_texts(FRIEND_CHAT))
        [png] = [s.file for s in runner.fake.sent(FRIEND_CHAT) if s.file]
        new_token = decode_qr(png)
    assert new_token == moved.ticket_token

    make_staff("desk@example.com", Role.CHECKIN)
    client, _ = staff_login(live_server, "desk@example.com", PASSWORD)
    with closing(client):
        old_scan = _scan(client, old_token, "scan-old-qr")
        new_scan = _scan(client, new_token, "scan-new-qr")
    assert old_scan["outcome"] == "transferred" and "DIALIHKAN" in old_scan["message"]
    assert old_scan["runner_name"] == ""  # nothing about the new holder for the old QR
    assert new_scan["outcome"] == "ok" and new_scan["runner_name"] == "Budi Santoso"
