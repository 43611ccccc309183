"""The waiting list in the chat: join at the sold-out answer (category, size, at confirm), position,
STATUS, a second join, and a runner with no sold-out choice. Through the engine's real path.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models import Category, Event, JerseyStock
from core.models.waitlist import WaitlistEntry
from core.registration import manage
from tests import factories as f
from tests.flows.chat import Chat


def _sell_out(session: Session, code: str = "10K") -> Category:
    category = session.scalars(select(Category).where(Category.code == code)).one()
    category.slots_taken = category.quota
    session.flush()
    return category


def test_sold_out_category_offers_the_list_and_keeps_the_place(
    session: Session, event: Event
) -> None:
    _sell_out(session)
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.send("10K")
    assert "ANTRE" in chat.text() and chat.state == "category"
    chat.send("ANTRE")
    assert "daftar tunggu" in chat.text() and "posisi *1*" in chat.text()
    assert chat.state == "idle"
    chat.send("ANTRE 10K")  # again: the same place, not a second entry
    assert "sudah ada di daftar tunggu" in chat.text()
    chat.send("ANTREAN")
    assert "10K" in chat.text() and "posisi *1*" in chat.text()
    chat.send("STATUS")
    assert "Daftar tunggu Anda" in chat.text()
    [entry] = session.scalars(select(WaitlistEntry)).all()
    assert entry.answers["category"] == "10K" and entry.jersey_size is None


def test_sold_out_at_confirm_joins_with_every_answer_kept(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    _sell_out(session)
    chat.send("YA")
    assert "ANTRE" in chat.text()
    chat.send("ANTRE")
    [entry] = session.scalars(select(WaitlistEntry)).all()
    assert entry.answers["email"] == chat.email and entry.answers["category"] == "10K"


def test_an_accepted_offer_resumes_at_the_summary(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    category = _sell_out(session)
    chat.send("YA")
    chat.send("ANTRE")
    taken = f.make_registration(session, event, code="10K")
    category.quota = category.slots_taken  # still full: only the cancel below frees a place
    manage.cancel(session, registration_id=taken.id, actor="admin", reason="t", now=utcnow())
    chat.send("YA")
    assert chat.state == "confirm" and "Ringkasan" in chat.text()  # every answer was kept
    chat.send("YA")
    entry = session.scalars(select(WaitlistEntry)).one()
    assert entry.status == "registered"


def test_a_sold_out_jersey_size_has_its_own_list(session: Session, event: Event) -> None:
    stock = session.scalars(select(JerseyStock).where(JerseyStock.size == "M")).one()
    stock.taken = stock.stock
    session.flush()
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("jersey_size")
    chat.send("M")
    assert "ANTRE" in chat.text() and chat.state == "jersey_size"
    chat.send("ANTRE")
    [entry] = session.scalars(select(WaitlistEntry)).all()
    assert entry.jersey_size == "M" and entry.answers["full_name"]


def test_nothing_to_wait_for(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.send("ANTRE")
    assert "Tidak ada kategori" in chat.text()
    chat.send("ANTREAN")
    assert "tidak sedang ada di daftar tunggu" in chat.text()


def _free_a_slot(session: Session, event: Event, category: Category) -> None:
    taken = f.make_registration(session, event, code=category.code)
    category.quota = category.slots_taken  # still full: only the cancel below frees a place
    manage.cancel(session, registration_id=taken.id, actor="admin", reason="t", now=utcnow())


def test_an_offer_is_accepted_with_another_draft_in_progress(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    category = _sell_out(session)
    chat.send("YA")
    chat.send("ANTRE")
    chat.send("DAFTAR")  # meanwhile: a new draft, stopped at its first questions
    chat.send("5K")
    assert chat.state not in ("idle", "confirm")
    _free_a_slot(session, event, category)
    chat.send("YA")
    assert "ditahan" in chat.text() and chat.state == "confirm"
    assert chat.conversation.answers["category"] == "10K"  # the answers it waited with
    chat.send("YA")
    entry = session.scalars(select(WaitlistEntry)).one()
    assert entry.status == "registered"


def test_leaving_the_list_is_confirmed_and_frees_a_held_place(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    category = _sell_out(session)
    chat.send("YA")
    chat.send("ANTRE")
    other = Chat(session)
    other.send("DAFTAR")
    other.send("10K")  # sold out: the list is offered
    other.send("ANTRE")
    _free_a_slot(session, event, category)
    chat.send("KELUAR ANTREAN")
    assert "Keluar dari daftar tunggu" in chat.text() and "10K" in chat.text()
    chat.send("TIDAK")
    assert "tetap di daftar tunggu" in chat.text()
    chat.send("KELUAR ANTREAN")
    chat.send("YA")
    assert "sudah keluar" in chat.text()
    mine, theirs = session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.id)).all()
    assert (mine.status, theirs.status) == ("left", "offered")  # the held place went on
    chat.send("ANTREAN")
    assert "tidak sedang ada di daftar tunggu" in chat.text()


def test_leave_waitlist_in_english(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("/language", command="language", command_arg="en")
    chat.send("LEAVE WAITLIST")
    assert "not on a waiting list" in chat.text()
    chat.send("/start", command="start")
    chat.answer_until("confirm")
    _sell_out(session)
    chat.send("YES")
    chat.send("WAITLIST")
    chat.send("LEAVE WAITLIST")
    assert "Leave these waiting lists?" in chat.text()
    chat.send("YES")
    assert "You have left the waiting list for *10K*" in chat.text()
