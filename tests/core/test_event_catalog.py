"""The cached event catalogue is never staler than a rebuilt one (core/events/catalog.snapshot).

Counters (slots, jerseys, a capped tier's sold) are patched into the cached catalogue; a change to
any other column rebuilds it. Checked in this transaction, across transactions and savepoints.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from core.db import unit_of_work, utcnow
from core.events import catalog
from core.models import Category, Event, JerseyStock, PriceTier
from core.registration import stock
from tests import factories


def _category(session: Session, code: str = "5K") -> catalog.CatalogCategory:
    event = catalog.snapshot(session, now=utcnow()).open[0]
    found = event.category(code)
    assert found is not None
    return found


def _jersey(session: Session, size: str = "M") -> int:
    event = catalog.snapshot(session, now=utcnow()).open[0]
    return next(j.left for j in event.jersey if j.size == size)


def test_a_slot_taken_in_this_transaction_shows_without_a_rebuild(session: Session) -> None:
    catalog.invalidate()
    event = factories.demo_event(session)
    session.flush()
    before = _category(session).slots_left
    built = catalog._CACHE["built"]
    stock.take_slot_now(session, factories.category(session, event))
    assert _category(session).slots_left == before - 1
    assert catalog._CACHE["built"] is built  # patched, not reloaded


def test_a_jersey_taken_shows(session: Session) -> None:
    catalog.invalidate()
    event = factories.demo_event(session)
    session.flush()
    before = _jersey(session)
    built = catalog._CACHE["built"]
    stock.take_jersey(session, event_id=event.id, size="M")
    assert _jersey(session) == before - 1
    assert catalog._CACHE["built"] is built


def test_a_structural_change_rebuilds(session: Session) -> None:
    catalog.invalidate()
    event = factories.demo_event(session)
    session.flush()
    assert _category(session).name != "Renamed"
    built = catalog._CACHE["built"]
    session.execute(
        update(Category)
        .where(Category.event_id == event.id, Category.code == "5K")
        .values(name="Renamed")
    )
    assert _category(session).name == "Renamed"
    assert catalog._CACHE["built"] is not built
    # The quota is structural too: raising it rebuilds and shows in slots_left.
    left = _category(session).slots_left
    session.execute(
        update(Category)
        .where(Category.event_id == event.id, Category.code == "5K")
        .values(quota=Category.quota + 5)
    )
    assert _category(session).slots_left == left + 5
    jersey_left = _jersey(session)
    session.execute(
        update(JerseyStock)
        .where(JerseyStock.event_id == event.id, JerseyStock.size == "M")
        .values(stock=JerseyStock.stock + 3)
    )
    assert _jersey(session) == jersey_left + 3


def test_a_savepoint_rolled_back_shows_the_counts_again(session: Session) -> None:
    catalog.invalidate()
    event = factories.demo_event(session)
    session.flush()
    before = _category(session).slots_left
    with session.begin_nested() as savepoint:
        stock.take_slot_now(session, factories.category(session, event))
        assert _category(session).slots_left == before - 1
        savepoint.rollback()
    assert _category(session).slots_left == before


def test_a_capped_tier_counts_its_registrations(session: Session) -> None:
    catalog.invalidate()
    event = factories.demo_event(session)
    category = factories.category(session, event)
    tier = PriceTier(category_id=category.id, name="Early", price=100_000, max_sold=5)
    session.add(tier)
    session.flush()
    assert _category(session).tiers[0].left == 5
    built = catalog._CACHE["built"]
    registration = factories.make_registration(session, event, code="5K")
    registration.price_tier_id = tier.id
    session.flush()
    assert _category(session).tiers[0].left == 4
    assert catalog._CACHE["built"] is built  # a registration is no structural change


def test_another_transactions_slot_shows_in_the_next_snapshot(committed_db: None) -> None:
    catalog.invalidate()
    with unit_of_work() as uow:
        event_id = factories.demo_event(uow.session).id
    with unit_of_work() as uow:
        before = _category(uow.session).slots_left
    with unit_of_work() as uow:
        event = uow.session.get(Event, event_id)
        assert event is not None
        stock.take_slot_now(uow.session, factories.category(uow.session, event))
    with unit_of_work() as uow:
        assert _category(uow.session).slots_left == before - 1
