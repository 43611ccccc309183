"""Price tiers: the current tier, its description, and the price locked at confirmation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from core.enums import Channel, RegistrationStatus
from core.events import pricing
from core.events.pricing import Quote, Tier
from core.models import Category, PriceTier
from core.registration import intake, stock
from tests.factories import NOW, category, demo_event

JAN_16 = datetime(2027, 1, 15, 17, 0, tzinfo=UTC)  # 16 Jan 00:00 WIB: on sale through 15 Jan


def _tier(**fields: Any) -> Tier:
    return Tier(
        **(
            {"id": 1, "name": "early bird", "name_en": "", "price": 100_000, "ends_at": None}
            | {"max_sold": None}
            | fields
        )  # fmt: skip
    )


def test_the_first_tier_not_ended_sets_the_price() -> None:
    early = _tier(id=1, ends_at=JAN_16, max_sold=500, sold=10)
    normal = _tier(id=2, name="normal", price=150_000)
    assert pricing.current(200_000, [early, normal], now=NOW).tier == early
    # by date, by count, whichever first
    assert pricing.current(200_000, [early, normal], now=JAN_16).tier == normal
    sold_out = _tier(id=1, ends_at=JAN_16, max_sold=500, sold=500)
    assert pricing.current(200_000, [sold_out, normal], now=NOW).price == 150_000


def test_no_tier_left_or_none_defined_means_the_category_price() -> None:
    assert pricing.current(200_000, [], now=NOW) == Quote(price=200_000)
    ended = _tier(ends_at=NOW - timedelta(days=1))
    assert pricing.current(200_000, [ended], now=NOW) == Quote(price=200_000)


def test_the_chat_describes_the_tier_in_both_languages() -> None:
    quote = Quote(price=100_000, tier=_tier(ends_at=JAN_16, max_sold=500, sold=3))
    id_text = pricing.price_text(quote, language="id", timezone="Asia/Jakarta")
    en_text = pricing.price_text(quote, language="en", timezone="Asia/Jakarta")
    assert id_text == "Rp100.000 (early bird s.d. 15 Jan atau 500 pertama)"
    assert en_text == "Rp100,000 (early bird until 15 Jan or the first 500)"
    last = Quote(price=100_000, tier=_tier(max_sold=500, sold=488, name_en="early"))
    assert pricing.describe(last, language="en", timezone="Asia/Jakarta") == (
        "early for the first 500, 12 left"
    )
    assert pricing.price_text(Quote(price=150_000), language="id", timezone="Asia/Jakarta") == (
        "Rp150.000"
    )


def add_tiers(session: Session, cat: Category, *tiers: dict[str, Any]) -> list[PriceTier]:
    rows = [PriceTier(category_id=cat.id, sort_order=n, **t) for n, t in enumerate(tiers)]
    session.add_all(rows)
    session.flush()
    return rows


def submission(event_id: int, code: str = "10K", **fields: Any) -> intake.Submission:
    n = uuid.uuid4().hex[:10]
    answers = {"full_name": "Siti Aminah", "email": f"r{n}@example.com", "jersey_size": "M"}
    return intake.Submission(
        event_id=event_id,
        category_code=code,
        answers=answers,
        channel=Channel.WHATSAPP.value,
        chat_id=f"62812{n}",
        **fields,
    )


def test_the_tier_price_is_locked_and_a_sold_out_tier_moves_the_next_runner(
    session: Session,
) -> None:
    event = demo_event(session)
    cat = category(session, event, "10K")
    early, normal = add_tiers(
        session,
        cat,
        {"name": "early bird", "price": 180_000, "max_sold": 2},
        {"name": "normal", "price": 220_000, "ends_at": NOW + timedelta(days=30)},
    )
    first, second, third = (
        intake.submit(session, submission=submission(event.id), now=NOW) for _ in range(3)
    )
    assert [r.price for r in (first, second, third)] == [180_000, 180_000, 220_000]
    assert third.price_tier_id == normal.id and first.price_tier_id == early.id
    later = intake.submit(session, submission=submission(event.id), now=NOW + timedelta(days=31))
    assert later.price == cat.price and later.price_tier_id is None  # every tier over
    # An expired early-bird registration gives its place back: 2 active at that price, never more.
    first.status = RegistrationStatus.EXPIRED.value
    stock.release(session, first)
    session.flush()
    again = intake.submit(session, submission=submission(event.id), now=NOW)
    assert again.price == 180_000


def test_a_price_other_than_the_one_shown_refuses_before_anything_is_taken(
    session: Session,
) -> None:
    event = demo_event(session)
    cat = category(session, event, "10K")
    add_tiers(session, cat, {"name": "early bird", "price": 180_000, "max_sold": 1})
    intake.submit(session, submission=submission(event.id, expected_price=180_000), now=NOW)
    taken = cat.slots_taken
    with pytest.raises(intake.PriceChanged) as err, session.begin_nested():
        intake.submit(session, submission=submission(event.id, expected_price=180_000), now=NOW)
    assert err.value.params == {"price": cat.price, "shown": 180_000}
    session.refresh(cat)
    assert cat.slots_taken == taken
    ok = intake.submit(session, submission=submission(event.id, expected_price=cat.price), now=NOW)
    assert ok.price == cat.price
