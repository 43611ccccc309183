"""The cached event catalogue is never staler than a rebuilt one (core/events/catalog.snapshot).

Counters (slots, jerseys, a capped tier's sold) are patched into the cached catalogue; a change to
any other column rebuilds it. Checked in this transaction, across transactions and savepoints.
"""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from core.db import get_engine, unit_of_work, utcnow
from core.events import catalog
from core.models import (
    CatalogVersion,
    Category,
    Event,
    EventQuestion,
    JerseyStock,
    PriceTier,
    Voucher,
)
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


def _version(session: Session) -> str | None:
    return session.scalar(select(CatalogVersion.version).where(CatalogVersion.id == 1))


def test_a_registrations_counters_leave_the_version_alone(session: Session) -> None:
    # A registration never writes (so never waits on) the version row.
    event = factories.demo_event(session)
    session.flush()
    version = _version(session)
    stock.take_slot_now(session, factories.category(session, event))
    stock.take_jersey(session, event_id=event.id, size="M")
    assert _version(session) == version
    session.execute(update(Event).where(Event.id == event.id).values(name=Event.name))  # no change
    assert _version(session) == version
    session.execute(update(Event).where(Event.id == event.id).values(name="Another name"))
    assert _version(session) != version


def test_vouchers_and_questions_rebuild(session: Session) -> None:
    catalog.invalidate()
    event = factories.demo_event(session)
    session.flush()
    assert not catalog.snapshot(session, now=utcnow()).open[0].has_vouchers
    voucher = Voucher(event_id=event.id, code="HEMAT", value=10_000)
    session.add(voucher)
    session.flush()
    assert catalog.snapshot(session, now=utcnow()).open[0].has_vouchers
    voucher.active = False
    session.flush()
    assert not catalog.snapshot(session, now=utcnow()).open[0].has_vouchers
    session.add(EventQuestion(event_id=event.id, kind="text", label="Komunitas lari"))
    session.flush()
    labels = [q.label for q in catalog.snapshot(session, now=utcnow()).open[0].questions]
    assert "Komunitas lari" in labels


def test_a_rolled_back_change_is_not_served_to_the_next_transaction(committed_db: None) -> None:
    catalog.invalidate()
    with unit_of_work() as uow:
        event_id = factories.demo_event(uow.session).id
    with suppress(RuntimeError), unit_of_work() as uow:
        uow.session.execute(update(Event).where(Event.id == event_id).values(name="Rolled back"))
        assert catalog.snapshot(uow.session, now=utcnow()).open[0].name == "Rolled back"
        raise RuntimeError  # rolls the change back, the catalogue built from it stays cached
    with unit_of_work() as uow:
        assert catalog.snapshot(uow.session, now=utcnow()).open[0].name != "Rolled back"


def test_without_a_version_row_the_catalogue_is_built_each_time(committed_db: None) -> None:
    catalog.invalidate()
    with unit_of_work() as uow:
        event_id = factories.demo_event(uow.session).id
    with get_engine().begin() as conn:  # no row: a truncated table, as a test's clean-up leaves it
        conn.execute(delete(CatalogVersion))
    with unit_of_work() as uow:
        assert catalog.snapshot(uow.session, now=utcnow()).open[0].name != "Changed unseen"
    with get_engine().begin() as conn:  # a change the version cannot show
        conn.execute(text("ALTER TABLE events DISABLE TRIGGER USER"))
        conn.execute(update(Event).where(Event.id == event_id).values(name="Changed unseen"))
        conn.execute(text("ALTER TABLE events ENABLE TRIGGER USER"))
    with unit_of_work() as uow:
        assert catalog.snapshot(uow.session, now=utcnow()).open[0].name == "Changed unseen"
