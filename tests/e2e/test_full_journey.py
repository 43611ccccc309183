"""The whole product, end to end, on both channels.

A runner registers by chat, pays, sends the transfer screenshot; an organiser approves it in the admin;
the e-ticket arrives once; its QR checks the runner in at race-pack pickup. Real app over HTTP on
loopback, PostgreSQL, Redis + dramatiq worker, and the fake Telegram / Fonnte servers.
"""

from __future__ import annotations

import io
import itertools
import re
import uuid
from collections.abc import Callable
from contextlib import closing
from typing import Any

import httpx
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from core.db import get_sessionmaker, unit_of_work
from core.enums import Channel, OutboundStatus, RegistrationStatus, Role
from core.formatting import rupiah
from core.models import InboundUpdate, OutboundMessage, Registration
from core.staff import accounts
from tests.answers import answers_for
from tests.channels.helpers import count, fixture, fonnte_path, tg_headers, tg_text, wait_until
from tests.e2e.conftest import scan_twice, staff_login
from tests.qr import decode_qr

PASSWORD = "e2e-staff-password"
XHR = {"accept": "application/json", "x-requested-with": "XMLHttpRequest"}


# -- the runner's phone, one per channel ------------------------------------------------------


class TelegramRunner:
    """A Telegram user talking to the bot: updates go to our webhook, replies land in the fake."""

    answers = ["DAFTAR", *answers_for(Channel.TELEGRAM, email="siti.tg@example.com")]

    def __init__(self, http: httpx.Client, fake: Any) -> None:
        self.http, self.fake, self.chat_id = http, fake, 555000222
        self._ids = itertools.count(880000)

    def _post(self, update: dict[str, Any]) -> None:
        r = self.http.post("/webhooks/telegram", json=update, headers=tg_headers())
        assert r.status_code == 200, r.text

    def say(self, text: str) -> None:
        self._post(tg_text(next(self._ids), text, chat_id=self.chat_id))

    def confirm(self) -> None:
        """Tap the first inline button under the summary ("confirm"), as a Telegram user does."""
        [summary] = [
            c for c in self.fake.requests("sendMessage")
            if str(c.params.get("chat_id")) == str(self.chat_id)
            and "inline_keyboard" in c.params.get("reply_markup", {})
        ][-1:]  # fmt: skip
        button = summary.params["reply_markup"]["inline_keyboard"][0][0]
        n = next(self._ids)
        self._post(
            {
                "update_id": n,
                "callback_query": {
                    "id": f"cbq-{n}",
                    "from": {"id": self.chat_id, "is_bot": False, "first_name": "Siti"},
                    "message": {
                        "message_id": 1,
                        "chat": {"id": self.chat_id, "type": "private"},
                        "date": 1767225780,
                        "text": summary.params["text"],
                    },
                    "chat_instance": "-42",
                    "data": button["callback_data"],
                },
            }
        )
        # Every tap must be answered, or the button keeps spinning on the runner's phone.
        self.fake.wait_for(lambda fake: len(fake.requests("answerCallbackQuery")) == 1)

    def send_photo(self, jpeg: bytes) -> None:
        file_id = f"AgAC-{uuid.uuid4().hex[:12]}"
        self.fake.add_file(file_id, jpeg)  # served by the fake's getFile + /file/bot… routes
        update = tg_text(next(self._ids), "", chat_id=self.chat_id)
        del update["message"]["text"]
        size = {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 480, "height": 800}
        update["message"]["photo"] = [{**size, "file_size": len(jpeg)}]
        self._post(update)

    def texts(self) -> list[str]:
        return self.fake.sent_texts(self.chat_id)

    def photos(self) -> list[bytes]:
        return [call.files["photo"] for call in self.fake.sent_photos(self.chat_id)]


class WhatsAppRunner:
    """A WhatsApp user behind Fonnte: webhook posts in, /send requests recorded by the fake."""

    answers = ["DAFTAR", *answers_for(Channel.WHATSAPP, email="siti.wa@example.com")]

    def __init__(self, http: httpx.Client, fake: Any) -> None:
        self.http, self.fake, self.chat_id = http, fake, "6281233335555"
        self._ids = itertools.count(770000)

    def _post(self, body: dict[str, Any]) -> None:
        r = self.http.post(fonnte_path(), json=body)
        assert r.status_code == 200, r.text

    def say(self, text: str) -> None:
        self._post(
            fixture("fonnte", "text", sender=self.chat_id, message=text, inboxid=next(self._ids))
        )

    def confirm(self) -> None:
        self.say("YA")  # WhatsApp has no buttons: the summary's options are numbered text

    def send_photo(self, jpeg: bytes) -> None:
        url = self.fake.add_media(f"{uuid.uuid4().hex}.jpg", jpeg)  # a public attachment link
        self._post(
            fixture("fonnte", "image", sender=self.chat_id, url=url, inboxid=next(self._ids))
        )

    def texts(self) -> list[str]:
        return self.fake.sent_texts(self.chat_id)

    def photos(self) -> list[bytes]:
        return [s.file for s in self.fake.sent(self.chat_id) if s.file]


Runner = TelegramRunner | WhatsAppRunner


@pytest.fixture(params=["telegram", "whatsapp"])
def runner(
    request: pytest.FixtureRequest, live_server: str, fake_telegram: Any, fake_fonnte: Any
) -> Any:
    http = httpx.Client(base_url=live_server, timeout=15)
    request.addfinalizer(http.close)
    if request.param == "telegram":
        return TelegramRunner(http, fake_telegram)
    return WhatsAppRunner(http, fake_fonnte)


# -- small helpers --------------------------------------------------------------------------------


def settled() -> bool:
    """Every stored message processed and every reply handed to the provider."""
    busy = (OutboundStatus.PENDING.value, OutboundStatus.SENDING.value)
    return (
        count(InboundUpdate, InboundUpdate.processed_at.is_(None)) == 0
        and count(OutboundMessage, OutboundMessage.status.in_(busy)) == 0
    )


def say(runner: Runner, text: str) -> None:
    """Send one chat message and wait until the bot has answered it."""
    runner.say(text)
    wait_until(settled, what=f"reply to {text!r}")


def wait_for_text(runner: Runner, needle: Callable[[str], bool], what: str) -> str:
    """Wait until the bot has sent a text matching ``needle``; return the latest such text."""
    wait_until(lambda: any(needle(t) for t in runner.texts()), what=what)
    return [t for t in runner.texts() if needle(t)][-1]


def only_registration() -> Registration:
    with get_sessionmaker()() as session:
        reg = session.scalars(select(Registration)).one()
        _ = reg.category, reg.participant  # loaded before the session closes
        return reg


def transfer_screenshot() -> bytes:
    image = Image.new("RGB", (480, 800), (245, 245, 250))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 120, 440, 300), fill=(0, 90, 170))
    draw.text((60, 360), "Transfer berhasil  Rp150.xxx", fill=(0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def make_staff(email: str, role: Role) -> None:
    with unit_of_work() as uow:
        accounts.create(
            uow.session, email=email, password=PASSWORD, role=role, name=email.split("@")[0]
        )


# -- the stages of the journey --------------------------------------------------------------------


def register(runner: Runner) -> Registration:
    for text in runner.answers:
        say(runner, text)
    runner.confirm()
    wait_until(settled, what="confirmation")
    reg = only_registration()
    assert reg.status == RegistrationStatus.PENDING_PAYMENT.value
    assert 1 <= reg.unique_code <= 999 and reg.amount_due == reg.price + reg.unique_code
    instructions = wait_for_text(runner, lambda t: rupiah(reg.amount_due) in t, "instructions")
    assert reg.number in instructions and "1234567890" in instructions  # the demo BCA account
    return reg


def pay(runner: Runner, reg: Registration) -> None:
    runner.send_photo(transfer_screenshot())
    wait_until(settled, what="photo processed")
    wait_for_text(runner, lambda t: "sudah kami terima" in t and reg.number in t, "acknowledgement")
    assert only_registration().status == RegistrationStatus.AWAITING_VERIFICATION.value


def approve_in_admin(base_url: str) -> None:
    make_staff("organiser@example.com", Role.VERIFIER)
    client, csrf = staff_login(base_url, "organiser@example.com", PASSWORD)
    with closing(client):
        queue = client.get("/admin/queue").text
        payment = re.search(r'data-payment-id="(\d+)"', queue)
        assert payment, "the payment is not in the verification queue"
        r = client.post(
            f"/admin/payments/{payment.group(1)}/approve", headers={**XHR, "x-csrf-token": csrf}
        )
        assert r.status_code == 200 and r.json()["changed"] is True, r.text


def receive_ticket(runner: Runner) -> str:
    """Wait for the e-ticket; it must arrive exactly once. Return the token in its QR."""
    wait_until(lambda: bool(runner.photos()), what="e-ticket photo")
    wait_until(settled, what="ticket delivery settled")
    [png] = runner.photos()
    return decode_qr(png)


def check_in(base_url: str, token: str) -> list[dict[str, Any]]:
    make_staff("desk@example.com", Role.CHECKIN)
    client, _ = staff_login(base_url, "desk@example.com", PASSWORD)
    with closing(client):
        return scan_twice(client, token)


# -- the scenario ---------------------------------------------------------------------------------


def test_register_pay_approve_ticket_and_check_in(runner: Runner, live_server: str) -> None:
    reg = register(runner)
    pay(runner, reg)

    approve_in_admin(live_server)
    token = receive_ticket(runner)
    paid = only_registration()
    assert paid.status == RegistrationStatus.PAID.value and paid.bib
    assert token == paid.ticket_token
    assert any(paid.bib in text for text in runner.texts())  # the ticket caption names the BIB

    first, second = check_in(live_server, token)
    assert first["outcome"] == "ok" and first["bib"] == paid.bib
    assert first["runner_name"] == "Siti Aminah" and first["jersey_size"] == "M"
    assert second["outcome"] == "already" and "SUDAH DIAMBIL" in second["message"]

    before = len(runner.texts())
    say(runner, "STATUS")
    status = [t for t in runner.texts()[before:] if reg.number in t and "Lunas" in t]
    assert status and paid.bib in status[0]
    assert count(OutboundMessage, OutboundMessage.status == OutboundStatus.FAILED.value) == 0


def test_a_nul_character_from_a_client_is_dropped_not_refused(
    live_server: str, fake_fonnte: Any
) -> None:
    """U+0000 cannot be stored by PostgreSQL; a 503 would make Fonnte retry the message 15 times."""
    with httpx.Client(base_url=live_server, timeout=15) as http:
        runner = WhatsAppRunner(http, fake_fonnte)
        runner.say("DAF\x00TAR")
        wait_until(settled, what="the message with U+0000 processed")
    assert any("Jakarta Fun Run" in text for text in runner.texts())
