"""A club leader's filled list in one message (flows/group_list.py), and a member opening the
Telegram link their leader forwarded (flows/groups.claim_copy)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import Channel
from core.models import Event, Registration, RegistrationGroup
from core.payments import group_payment
from core.registration import groups, member_links
from flows import form
from flows.registration import REGISTRATION
from tests.factories import make_staff
from tests.flows.chat import Chat
from tests.flows.test_form import ID_VALUES, _fill


def _sheet(chat: Chat) -> str:
    chat.send("FORMAT" if chat.conversation.language == "id" else "FORM")
    [sheet] = chat.last
    return sheet.text


def _runner(name: str, **extra: str) -> dict[str, str]:
    return {**ID_VALUES, "full_name": name, "email": f"{uuid.uuid4().hex[:10]}@example.com",
            "phone": "0812" + str(uuid.uuid4().int)[:8], **extra}  # fmt: skip


def _group_members(session: Session) -> list[Registration]:
    return list(session.scalars(select(Registration).order_by(Registration.id)))


def test_whatsapp_list_adds_valid_runners_and_asks_the_gaps_after(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR GRUP")
    assert "FORMAT" in chat.text()  # the greeting offers the list
    sheet = _sheet(chat)
    siti, budi = _runner("Siti Aminah"), _runner("Budi Hartono")
    rina = _runner("Rina Wulandari", date_of_birth="31-02-1990")  # no such day
    del rina["email"]  # and a missing line
    text = "\n\n".join([_fill(sheet, siti), _fill(sheet, budi), "----------", _fill(sheet, rina)])
    chat.send(text)
    reply = chat.text()
    assert "Daftar diterima: 3 pelari" in reply and "Siti Aminah, Budi Hartono" in reply
    assert "Pelari 3 (Rina Wulandari)" in reply and "Tanggal lahir" in reply
    assert "Email*: belum diisi" in reply and "Contoh" in reply
    assert len(_group_members(session)) == 2
    assert chat.state == "date_of_birth"  # Rina's draft: only the gaps
    chat.send("17-08-1991")
    assert chat.state == "email"
    chat.send(rina.get("email", "rina@example.com"))
    assert chat.state == "confirm" and "Rina Wulandari" in chat.text()
    chat.send("YA")
    assert "Pelari 3 ditambahkan" in chat.text()
    chat.send("SELESAI")
    members = _group_members(session)
    assert len(members) == 3 and len({r.group_id for r in members}) == 1 and members[0].group_id
    assert all(r.participant.full_name in chat.text() for r in members)  # one amount for all


def test_telegram_english_list_split_by_the_repeated_first_label(
    session: Session, event: Event
) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/language", command="language", command_arg="en")
    chat.send("REGISTER GROUP")
    sheet = _sheet(chat)
    blocks = [_fill(sheet, _runner(n, gender="F")) for n in ("Ana Putri", "Dewi Lestari")]
    # No blank line between the runners: the repeated first label starts the next one.
    pasted = "\n".join(line for block in blocks for line in block.splitlines() if ":" in line)
    assert len(form.read_blocks(REGISTRATION, pasted)) == 2
    chat.send(pasted)
    assert "List received: 2 runners" in chat.text() and "Ana Putri, Dewi Lestari" in chat.text()
    assert "Reply *YES* for the next runner" in chat.text()
    more = [_fill(sheet, _runner(n)) for n in ("Eka Sari", "Fitri Ayu")]
    chat.send("\n---\n".join(more))  # another list at "another runner?"
    assert "List received: 2 runners" in chat.text() and "Eka Sari, Fitri Ayu" in chat.text()
    chat.send("DONE")
    assert "Group payment: 4 runners" in chat.text()


def test_a_single_form_in_a_group_is_still_one_runner(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR GRUP")
    chat.send(_fill(_sheet(chat), _runner("Siti Aminah")))
    assert chat.state == "confirm"  # the ordinary one-message form: its summary


def test_member_opens_the_link_and_gets_their_own_ticket(session: Session, event: Event) -> None:
    leader = Chat(session, Channel.TELEGRAM)
    leader.send("REGISTER GROUP")
    sheet = _sheet(leader)
    leader.send("\n\n".join(_fill(sheet, _runner(n)) for n in ("Ana Putri", "Dewi Lestari")))
    leader.send("SELESAI")
    leader.photo()  # the group's one screenshot
    group = session.scalars(select(RegistrationGroup)).one()
    outcome = group_payment.approve_group(session, group=group, actor=make_staff(session),
                                          now=leader.now)  # fmt: skip
    assert len(outcome.paid) == 2
    ana = groups.members(session, group)[0]
    member = Chat(session, Channel.TELEGRAM)
    replies = member.send("/start", command="start", command_arg=member_links.token(ana))
    assert "Ana Putri" in replies[0].text and replies[1].image_path  # their own ticket
    other = Chat(session, Channel.TELEGRAM)
    other.send("/start", command="start", command_arg=member_links.token(ana))
    assert "another Telegram account" in other.text() or "akun Telegram lain" in other.text()


def test_a_list_sent_without_daftar_grup_opens_the_group(session: Session, event: Event) -> None:
    chat = Chat(session)
    sheet = form.form_message(REGISTRATION, _ctx_for(session, chat)).text
    chat.send("\n\n".join(_fill(sheet, _runner(n)) for n in ("Siti Aminah", "Budi Hartono")))
    assert "satu grup" in chat.text() and "Daftar diterima: 2 pelari" in chat.text()
    chat.send("SELESAI")
    members = _group_members(session)
    assert len(members) == 2 and members[0].group_id and len({r.group_id for r in members}) == 1
    assert "Pembayaran grup: 2 pelari" in chat.text()


def _ctx_for(session: Session, chat: Chat):  # type: ignore[no-untyped-def]
    from core.db import utcnow
    from flows import context

    chat.send("halo")  # the conversation exists
    return context.build(session, chat.conversation, now=utcnow())


def test_blocks_split_on_blank_lines_dashes_and_repeated_labels_but_not_inside_a_form() -> None:
    one = "Nama lengkap: Siti Aminah\nKategori: 10K\n\nEmail: siti@example.com\nGender: P"
    two = "Name: Budi\nCategory: 5K"
    three = "Nama: Rina\nKategori: 21K"
    blocks = form.read_blocks(REGISTRATION, f"{one}\n=====\n{two}\n{three}\nhalo: apa kabar")
    assert [b.get("full_name") for b in blocks] == ["Siti Aminah", "Budi", "Rina"]
    assert blocks[0]["email"] == "siti@example.com"  # the blank line inside Siti's form
    assert form.read_blocks(REGISTRATION, "Catatan: tidak ada\n\nNama: Siti") == []
