"""The summary (issue 14 C8, issue 13): natural "edit <part>" words, yes/edit/cancel buttons, price."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from core.enums import Channel
from core.models import Event
from flows import pending
from tests.flows.chat import Chat


def at_summary(session: Session, channel: Channel = Channel.WHATSAPP, language: str = "id") -> Chat:
    chat = Chat(session, channel)
    if language == "en":
        chat.send("LANGUAGE en")
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    return chat


def test_the_summary_shows_the_price(session: Session, event: Event) -> None:
    chat = at_summary(session)
    assert "Biaya pendaftaran: *Rp250.000*" in chat.text()  # the 10K price, before the unique code


@pytest.mark.parametrize(
    ("language", "typed", "key"),
    [
        ("id", "ubah nama", "full_name"),
        ("id", "ganti ukuran jersey", "jersey_size"),
        ("id", "Ubah tanggal lahir", "date_of_birth"),
        ("id", "email salah", "email"),
        ("id", "ganti kontak darurat", "emergency_name"),
        ("id", "ubah goldar", "blood_type"),
        ("en", "edit name", "full_name"),
        ("en", "change my jersey size", "jersey_size"),
        ("en", "edit email", "email"),
        ("en", "change emergency phone", "emergency_phone"),
        ("en", "ubah email", "email"),  # either language's words, in any chat
    ],
)
def test_natural_words_open_that_answer(
    session: Session, event: Event, language: str, typed: str, key: str
) -> None:
    chat = at_summary(session, language=language)
    chat.send(typed)
    assert chat.state == key
    assert "✏️" in chat.text()  # the current answer is shown while editing


def test_after_the_edit_the_summary_comes_back(session: Session, event: Event) -> None:
    chat = at_summary(session)
    chat.send("ubah nama")
    chat.send("Dewi Lestari")
    assert chat.state == "confirm"
    assert "Nama lengkap: *Dewi Lestari*" in chat.text()
    assert not pending.of(chat.conversation).editing


def test_an_unclear_reply_gets_a_short_hint_not_the_summary(session: Session, event: Event) -> None:
    chat = at_summary(session)
    chat.send("hmm gimana ya")
    assert len(chat.last) == 1 and "Ringkasan" not in chat.text()
    assert "*UBAH <bagian>*" in chat.text() and "1–13" in chat.text()  # numbered on Fonnte
    chat.send("ringkasan")
    assert "Ringkasan pendaftaran" in chat.text() and chat.state == "confirm"
    for _ in range(3):  # "ringkasan" was understood: the count starts again
        chat.send("???")
    assert "BANTUAN" in chat.text()  # the third miss adds the help hint


def test_fonnte_keeps_one_numbered_line_per_answer(session: Session, event: Event) -> None:
    chat = at_summary(session)
    labels = [c.label for c in chat.last[-1].choices]
    assert labels[1] == "Ubah Kategori" and labels[-1] == "Batal" and len(labels) == 13
    chat.send("6")  # "Ubah Email"
    assert chat.state == "email"


def test_cloud_summary_is_yes_edit_cancel_then_a_list_of_answers(
    session: Session, event: Event
) -> None:
    chat = at_summary(session, Channel.WHATSAPP_CLOUD)
    summary = chat.last[-1]
    assert [(c.label, c.value) for c in summary.choices] == [
        ("Ya, daftarkan", "1"),
        ("Ubah data", "2"),
        ("Batal", "3"),
    ]
    chat.send(None, choice="2")  # the tapped reply button's id
    [fields] = chat.last
    assert fields.choices[0].value == "edit:category"
    assert fields.choices[1].label == "Nama lengkap — Siti Aminah"  # a list row with the value
    chat.send(None, choice="edit:email")  # the tapped list row's id
    assert chat.state == "email"
    chat.send("baru@example.com")
    assert chat.state == "confirm" and "baru@example.com" in chat.text()


def test_typed_numbers_and_words_work_on_the_list_of_answers(
    session: Session, event: Event
) -> None:
    chat = at_summary(session, Channel.TELEGRAM, language="en")
    chat.send("edit")
    assert "Which answer" in chat.text()
    # Long "answer — value" lines are listed in the text; the buttons carry the answer's name.
    assert chat.last[0].choices[2].label == "3. Gender" and "3. Gender — " in chat.text()
    chat.send("3")
    assert chat.state == "gender"
    chat.send("M")
    chat.send("2")
    chat.send("blood type")
    assert chat.state == "blood_type"


def test_yes_while_the_list_of_answers_is_open_registers(session: Session, event: Event) -> None:
    chat = at_summary(session, Channel.WHATSAPP_CLOUD)
    chat.send("ubah")
    chat.send("YA")
    assert chat.state == "idle" and "Pendaftaran diterima" in chat.text()


def test_english_numbers_are_formatted_one_way(session: Session, event: Event) -> None:
    """C11: English texts write money like their other numbers (Rp150,000, 2,000 slots left)."""
    chat = Chat(session)
    chat.send("LANGUAGE en")
    chat.send("REGISTER")
    labels = " ".join(c.label for c in chat.last[-1].choices)
    assert "Rp150,000" in labels and "2,000" in labels and "Rp150.000" not in labels
    chat.answer_until("confirm")
    assert "Registration fee: *Rp250,000*" in chat.text()
    chat.send("YES")
    assert "Rp250," in chat.text() and "Rp250." not in chat.text()  # the transfer instructions
    indonesian = at_summary(session)
    assert "Biaya pendaftaran: *Rp250.000*" in indonesian.text()
