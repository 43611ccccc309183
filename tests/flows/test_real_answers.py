"""Answers people really give (issue 14): 2-digit years, impossible dates, email typos, relations."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy.orm import Session

from core.enums import Channel
from core.events.catalog import CatalogCategory, CatalogEvent, EventCatalog
from core.i18n import t
from core.models import Event
from flows import parsers
from flows.spec import Ctx, Invalid
from tests.flows.chat import Chat

ADULTS = CatalogCategory(1, "21K", "Half", 21.1, 400_000, 5, 17, 70)
KIDS = CatalogCategory(2, "KIDS", "Kids", 1, 50_000, 5, 4, 12)
EVENT = CatalogEvent(
    1, "e", "E", date(2026, 12, 6), None, None, True, "Asia/Jakarta", (ADULTS, KIDS), ()
)


def ctx(language: str = "id", **answers: object) -> Ctx:
    return Ctx(
        language=language,
        catalog=EventCatalog(open=(EVENT,)),
        answers=dict(answers),
        today=date(2026, 1, 1),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("text", "category", "expected"),
    [
        ("31 mei 92", "21K", "1992-05-31"),
        ("31-05-92", "21K", "1992-05-31"),
        ("17/08/05", "21K", "2005-08-17"),  # 21 on race day: 2005, not 1905
        ("17/08/18", "KIDS", "2018-08-17"),  # a kids' category: 8 years old
        ("17 agustus 60", "21K", "1960-08-17"),  # 2060 is in the future
        ("29-02-00", "21K", "2000-02-29"),  # 1900 had no 29 February, 2000 had
        ("1992/31/05", "21K", "1992-05-31"),  # day and month swapped when only that reads
        ("05/31/1992", "21K", "1992-05-31"),
    ],
)
def test_dates_people_type(text: str, category: str, expected: str) -> None:
    assert parsers.date_of_birth(text, ctx(category=category)) == expected


@pytest.mark.parametrize(
    ("language", "text", "said"),
    [
        ("id", "31-02-1992", "Tanggal 31 Februari tidak ada."),
        ("en", "31-02-1992", "31 February does not exist."),
        ("id", "31 april 1990", "Tanggal 31 April tidak ada."),
        ("en", "30 feb 92", "30 February does not exist."),
    ],
)
def test_an_impossible_date_names_the_day(language: str, text: str, said: str) -> None:
    with pytest.raises(Invalid) as err:
        parsers.date_of_birth(text, ctx(language, category="21K"))
    assert t(err.value.key, language, **err.value.params) == said


def test_a_month_that_does_not_exist_is_unreadable() -> None:
    with pytest.raises(Invalid) as err:
        parsers.date_of_birth("13-13-1990", ctx(category="21K"))
    assert err.value.key == "flow.invalid.date"


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("dewi@gmail.con", "dewi@gmail.com"),
        ("dewi.lestari@gmial.com", "dewi.lestari@gmail.com"),
        ("budi@yaho.com", "budi@yahoo.com"),
        ("budi@hotmal.com", "budi@hotmail.com"),
        ("budi@ymial.com", "budi@ymail.com"),
        ("budi@yahoo.co.di", "budi@yahoo.co.id"),
    ],
)
def test_email_domain_typos_are_asked_about(typed: str, meant: str) -> None:
    with pytest.raises(Invalid) as err:
        parsers.email(typed, ctx())
    assert err.value.key == "flow.invalid.email_typo"
    assert err.value.params["suggestion"] == meant


@pytest.mark.parametrize("address", ["a@mail.com", "a@gmail.com", "a@yahoo.co.id", "a@gmx.com"])
def test_real_domains_pass_untouched(address: str) -> None:
    assert parsers.email(address, ctx()) == address


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Pak Hendra (suami)", "Pak Hendra (suami)"),
        ("Siti Aminah ( ibu )", "Siti Aminah (ibu)"),
        ("Budi (kakak ipar)", "Budi (kakak ipar)"),
    ],
)
def test_a_relation_in_brackets_is_kept_in_the_contact_name(typed: str, stored: str) -> None:
    assert parsers.emergency_name(typed, ctx()) == stored


@pytest.mark.parametrize("typed", ["Hendra (<b>)", "Hendra (123)", "(suami)", "Hendra ("])
def test_brackets_do_not_open_the_door_to_anything(typed: str) -> None:
    with pytest.raises(Invalid):
        parsers.emergency_name(typed, ctx())


def test_yes_takes_the_suggested_email(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("email")
    chat.send("dewi.lestari@gmial.com")
    assert chat.state == "email" and len(chat.last) == 1  # asked, the question not repeated
    assert "*dewi.lestari@gmail.com*" in chat.text() and "YA" in chat.text()
    chat.send("ya")
    assert chat.conversation.answers["email"] == "dewi.lestari@gmail.com"
    assert chat.state == "phone"


def test_another_address_after_the_suggestion_is_used_as_sent(
    session: Session, event: Event
) -> None:
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/language", command="language", command_arg="en")
    chat.send("REGISTER")
    chat.answer_until("email")
    chat.send("dewi@gmial.com")
    assert "Did you mean *dewi@gmail.com*?" in chat.text()
    assert [c.label for c in chat.last[0].choices] == ["Yes"]  # a lone button on Telegram
    chat.send("dewi@company.co.id")
    assert chat.conversation.answers["email"] == "dewi@company.co.id"
    assert "suggestion" not in str(chat.conversation.answers)


def test_the_suggestion_is_forgotten_after_another_answer(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("email")
    chat.send("dewi@gmial.com")
    chat.send("not an email")
    chat.send("ya")  # no longer a yes to the old suggestion
    assert chat.state == "email"
    assert "email" not in chat.conversation.answers


def test_relation_in_contact_name_reaches_the_registration(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.register({"emergency_name": "Pak Hendra (suami)"})
    from core.models import Registration

    reg = session.query(Registration).one()
    assert reg.participant.emergency_name == "Pak Hendra (suami)"


def test_after_kategori_a_fitting_birth_date_is_not_asked_again(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("date_of_birth", {"category": "21K"})
    chat.send("01-01-2014")  # 12 on race day: too young for 21K
    assert chat.state == "date_of_birth" and "KATEGORI" in chat.text()
    chat.send("KATEGORI")
    assert chat.state == "category"
    chat.send("9")  # a slip on the way does not lose the date
    chat.send("5K")
    assert chat.state == "email"  # the date fits 5K: not asked again
    assert chat.conversation.answers["date_of_birth"] == "2014-01-01"


def test_after_kategori_a_birth_date_that_still_does_not_fit_is_asked(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("date_of_birth", {"category": "21K"})
    chat.send("01-01-2014")
    chat.send("KATEGORI")
    chat.send("10K")  # the demo's 10K is for 15+
    assert chat.state == "date_of_birth"
