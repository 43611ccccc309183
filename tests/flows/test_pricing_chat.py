"""Prices and codes in the chat: the tier in the category list, KODE, the code step, the summary,
a price that moved before confirming (told before, never after), a free code straight to the ticket.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import Channel, RegistrationStatus
from core.models import Category, Event, PriceTier, Registration, Voucher
from tests.flows.chat import Chat


def _cat(session: Session, event: Event, code: str = "10K") -> Category:
    return session.scalars(
        select(Category).where(Category.event_id == event.id, Category.code == code)
    ).one()


def _early_bird(session: Session, event: Event, chat: Chat, *, max_sold: int = 500) -> PriceTier:
    ends = (chat.now + timedelta(days=10)).astimezone(ZoneInfo("Asia/Jakarta"))
    ends = ends.replace(hour=0, minute=0, second=0, microsecond=0)
    tier = PriceTier(
        category_id=_cat(session, event).id,
        name="early bird",
        price=200_000,
        ends_at=ends,
        max_sold=max_sold,
    )
    session.add(tier)
    session.flush()
    return tier


def _registrations(session: Session) -> list[Registration]:
    return list(session.scalars(select(Registration).order_by(Registration.id)))


def test_the_category_list_and_the_summary_show_the_tier_price(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    tier = _early_bird(session, event, chat)
    last_day = (tier.ends_at - timedelta(seconds=1)).astimezone(ZoneInfo("Asia/Jakarta"))
    chat.send("DAFTAR")
    labels = " ".join(c.label for c in chat.last[-1].choices)
    assert f"Rp200.000 (early bird s.d. {last_day.day} " in labels and "atau 500 pertama" in labels
    chat.answer_until("confirm")
    assert "Biaya pendaftaran: *Rp200.000* (early bird s.d." in chat.text()
    chat.send("YA")
    [reg] = _registrations(session)
    assert reg.price == 200_000 and reg.price_tier_id == tier.id


def test_a_price_that_moved_since_the_summary_is_shown_and_asked_again(
    session: Session, event: Event
) -> None:
    chat = Chat(session)
    _early_bird(session, event, chat, max_sold=1)
    chat.send("DAFTAR")
    chat.answer_until("confirm")
    assert "Rp200.000" in chat.text()
    # Someone else takes the last early-bird place while this runner reads the summary.
    rival = Chat(session)
    rival.register()
    chat.send("YA")
    assert chat.state == "confirm"
    assert "baru saja berubah menjadi *Rp250.000*" in chat.text()
    assert "Biaya pendaftaran: *Rp250.000*" in chat.text()
    assert len(_registrations(session)) == 1  # nothing registered behind the runner's back
    chat.send("YA")
    assert chat.state == "idle"
    assert [r.price for r in _registrations(session)] == [200_000, 250_000]


def test_kode_any_time_before_confirming_and_the_code_step(session: Session, event: Event) -> None:
    session.add(Voucher(event_id=event.id, code="LARIPAGI", value=50_000, max_uses=10))
    session.flush()
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.send("KODE nope1")
    assert "tidak dikenal" in chat.text() and chat.state == "category"
    chat.send("KODE laripagi")
    assert "potongan *Rp50.000*" in chat.text() and chat.state == "category"
    chat.answer_until("voucher")
    assert "Kode *LARIPAGI* sudah Anda masukkan" in chat.text()
    chat.send("ya")
    text = chat.text()
    assert "Kode *LARIPAGI*: −Rp50.000" in text and "Total bayar: *Rp200.000*" in text
    chat.send("YA")
    [reg] = _registrations(session)
    assert reg.price == 200_000 and reg.discount == 50_000 and reg.voucher_id is not None
    # A second runner meets the optional step itself and can skip it.
    other = Chat(session)
    other.send("DAFTAR")
    other.answer_until("voucher", {"voucher": "-"})
    assert "kode voucher" in other.text()
    other.send("SALAH99")
    assert "tidak dikenal" in other.text() and other.state == "voucher"
    other.send("-")
    assert other.state == "confirm" and "Total bayar" not in other.text()


def test_a_free_code_skips_payment_and_sends_the_ticket(session: Session, event: Event) -> None:
    session.add(Voucher(event_id=event.id, code="COMP", kind="percent", value=100))
    session.flush()
    chat = Chat(session, Channel.TELEGRAM)
    chat.send("/start")
    chat.answer_until("confirm", {"voucher": "comp"})
    assert "Total bayar: *Rp0* (gratis, tanpa transfer)" in chat.text()
    chat.send("YA")
    [reg] = _registrations(session)
    assert reg.status == RegistrationStatus.PAID.value and reg.bib
    assert any(r.kind == "ticket" and r.image_path for r in chat.last)
    assert "transfer" not in " ".join(r.text for r in chat.last if r.kind == "payment")
    assert not [r for r in chat.last if r.kind == "payment"]
