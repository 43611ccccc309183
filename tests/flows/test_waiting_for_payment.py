"""Text while a registration waits for payment (C9): the amount, the account, varied, direct answers."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.formatting import rupiah
from core.models import Event, Registration
from tests.flows.chat import Chat


def registered(session: Session, language: str = "id") -> tuple[Chat, Registration]:
    chat = Chat(session)
    if language == "en":
        chat.send("LANGUAGE en")
    chat.register()
    return chat, session.scalars(select(Registration).order_by(Registration.id.desc())).first()


def test_the_first_unclear_reply_states_amount_account_deadline_and_proof(
    session: Session, event: Event
) -> None:
    chat, reg = registered(session)
    chat.send("hello")
    text = chat.text()
    assert rupiah(reg.amount_due) in text and reg.number in text
    assert "1234567890" in text  # the demo BCA account
    assert "paling lambat" in text and "bukti transfer" in text


def test_later_unclear_replies_are_shorter_and_not_identical(
    session: Session, event: Event
) -> None:
    chat, reg = registered(session)
    replies = [chat.send(text)[0].text for text in ("hello", "👍", "halo?", "p")]
    assert len(set(replies)) == 2 and len(replies[1]) < len(replies[0]) / 2
    assert all(rupiah(reg.amount_due) in r for r in replies)  # every one states the amount
    chat.send("STATUS")
    assert chat.send("hmm")[0].text == replies[0]  # after a command, the whole again


def test_how_much_is_answered_directly(session: Session, event: Event) -> None:
    chat, reg = registered(session)
    [answer] = chat.send("berapa totalnya?")
    assert answer.text.startswith(f"Total yang perlu ditransfer: *{rupiah(reg.amount_due)}*")
    chat2, reg2 = registered(session, "en")
    [answer] = chat2.send("how much?")
    assert answer.text.startswith("Total to transfer:")


def test_already_transferred_is_told_how_to_send_the_proof(session: Session, event: Event) -> None:
    chat, _reg = registered(session)
    [answer] = chat.send("sudah transfer kak")
    assert "Terima kasih" in answer.text and "foto/screenshot bukti transfer" in answer.text
