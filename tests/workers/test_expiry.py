"""Expiry and reminders: exactly once, even with several workers; photos protect a registration."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import make_engine, unit_of_work, utcnow
from core.enums import RegistrationStatus
from core.models import AuditLog, OutboundMessage, Registration
from core.payments import deadlines, rejection
from tests.factories import (
    NOW,
    UNPAID,
    category,
    demo_event,
    jersey,
    later,
    make_registration,
    make_staff,
    send_photo,
)
from workers import payments as payment_jobs
from workers.jobs import PERIODIC


def _messages(session: Session, registration_id: int) -> list[OutboundMessage]:
    return list(
        session.scalars(
            select(OutboundMessage).where(OutboundMessage.registration_id == registration_id)
        )
    )


def test_expiry_releases_slot_and_jersey_once(session: Session) -> None:
    event = demo_event(session)
    slots, shirts = category(session, event).slots_taken, jersey(session, event).taken
    reg = make_registration(session, event, **UNPAID)
    assert deadlines.expire_unpaid(session, now=later(29)) == [], "grace period still running"
    expired = deadlines.expire_unpaid(session, now=later(30))
    assert [e.registration_id for e in expired] == [reg.id]
    assert reg.status == RegistrationStatus.EXPIRED and reg.amount_key is None
    assert category(session, event).slots_taken == slots
    assert jersey(session, event).taken == shirts
    assert "DAFTAR" in expired[0].outbound.text
    assert deadlines.expire_unpaid(session, now=later(40)) == []
    assert category(session, event).slots_taken == slots
    assert len(_messages(session, reg.id)) == 1


def test_photo_before_deadline_never_expires(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    send_photo(session, reg, hours=23)
    assert deadlines.expire_unpaid(session, now=later(24 * 30)) == []
    assert reg.status == RegistrationStatus.AWAITING_VERIFICATION


def test_rejected_registration_expires_after_the_extended_deadline(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    photo = send_photo(session, reg, hours=1)
    assert photo.payment is not None
    rejection.reject(
        session,
        payment_id=photo.payment.id,
        actor=make_staff(session),
        reason="other",
        now=later(20),
    )
    assert deadlines.expire_unpaid(session, now=later(31)) == []  # original expiry has passed
    assert [e.registration_id for e in deadlines.expire_unpaid(session, now=later(50))] == [reg.id]


def test_expiry_catches_up_after_downtime(session: Session) -> None:
    event = demo_event(session)
    regs = [
        make_registration(session, event, now=NOW + timedelta(hours=h), **UNPAID) for h in range(5)
    ]
    expired = deadlines.expire_unpaid(session, now=later(24 * 7))
    assert {e.registration_id for e in expired} == {r.id for r in regs}


def test_reminder_sent_once_before_the_deadline(session: Session) -> None:
    reg = make_registration(
        session, demo_event(session), **UNPAID
    )  # deadline NOW+24h, reminder 3h before
    assert deadlines.send_reminders(session, now=later(20)) == []
    rows = deadlines.send_reminders(session, now=later(21))
    assert [r.registration_id for r in rows] == [reg.id] and reg.reminder_sent_at == later(21)
    assert "Rp" in rows[0].text and "Minggu, 29 Nov 2026 14:00 WIB" in rows[0].text
    assert deadlines.send_reminders(session, now=later(22)) == []
    assert deadlines.send_reminders(session, now=later(25)) == []
    assert len(_messages(session, reg.id)) == 1


def test_no_reminder_once_a_photo_arrived(session: Session) -> None:
    reg = make_registration(session, demo_event(session), **UNPAID)
    send_photo(session, reg, hours=2)
    assert deadlines.send_reminders(session, now=later(22)) == []


def _setup_expiring(count: int, *, now: Any) -> tuple[int, int, int, list[int]]:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        slots = category(uow.session, event).slots_taken
        shirts = jersey(uow.session, event).taken
        # Simulator chats: delivery marks their messages sent without any HTTP call.
        ids = [
            make_registration(uow.session, event, now=now, channel="simulator", **UNPAID).id
            for _ in range(count)
        ]
    return event.id, slots, shirts, ids


def _assert_released_once(slots: int, shirts: int, ids: list[int]) -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        assert category(uow.session, event).slots_taken == slots
        assert jersey(uow.session, event).taken == shirts
        statuses = uow.session.scalars(select(Registration.status).where(Registration.id.in_(ids)))
        assert set(statuses) == {RegistrationStatus.EXPIRED.value}
        messages = uow.session.scalar(
            select(func.count()).where(OutboundMessage.registration_id.in_(ids))
        )
        audits = uow.session.scalar(
            select(func.count()).where(AuditLog.action == "registration.expired")
        )
    assert messages == len(ids), "one message per registration"
    assert audits == len(ids), "expired exactly once"


def test_two_workers_expiring_at_once(committed_db: None) -> None:
    _event, slots, shirts, ids = _setup_expiring(60, now=NOW)
    barrier = threading.Barrier(4)

    def run() -> int:
        barrier.wait()
        return payment_jobs.expire_once(now=later(31))

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = [f.result() for f in [pool.submit(run) for _ in range(4)]]
    assert sum(counts) == len(ids)
    _assert_released_once(slots, shirts, ids)


def test_expiry_actor_on_the_real_worker(worker: Any, broker: Any) -> None:
    _event, slots, shirts, ids = _setup_expiring(10, now=utcnow() - timedelta(days=3))
    payment_jobs.expire_unpaid.send()
    payment_jobs.expire_unpaid.send()
    broker.join("low", timeout=20_000)
    worker.join()
    _assert_released_once(slots, shirts, ids)


@pytest.mark.sqlite
def test_expiry_and_unique_amounts_on_the_sqlite_default(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        with Session(engine) as sess, sess.begin():
            event = demo_event(sess)
            slots = category(sess, event).slots_taken
            regs = [make_registration(sess, event, **UNPAID) for _ in range(5)]
            assert len({r.amount_due for r in regs}) == 5
            expired = deadlines.expire_unpaid(sess, now=later(31))
            assert len(expired) == 5 and category(sess, event).slots_taken == slots
            assert deadlines.expire_unpaid(sess, now=later(32)) == []
    finally:
        engine.dispose()


def test_payment_jobs_are_registered_as_periodic_jobs() -> None:
    assert PERIODIC["expire_unpaid"] == (payment_jobs.expire_unpaid, 60)
    assert PERIODIC["payment_reminders"] == (payment_jobs.send_payment_reminders, 60)
    assert payment_jobs.expire_unpaid.queue_name == "low"
    assert payment_jobs.send_payment_reminders.queue_name == "low"


def test_two_workers_reminding_at_once_send_one_message_each(committed_db: None) -> None:
    with unit_of_work() as uow:
        event = demo_event(uow.session)
        ids = [
            make_registration(uow.session, event, channel="simulator", **UNPAID).id
            for _ in range(30)
        ]
    barrier = threading.Barrier(4)

    def run() -> int:
        barrier.wait()
        return payment_jobs.remind_once(now=later(22))

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = [f.result() for f in [pool.submit(run) for _ in range(4)]]
    assert sum(counts) == len(ids)
    with unit_of_work() as uow:
        messages = uow.session.scalar(
            select(func.count()).where(OutboundMessage.registration_id.in_(ids))
        )
        audits = uow.session.scalar(
            select(func.count()).where(AuditLog.action == "payment.reminder_sent")
        )
    assert messages == len(ids) and audits == len(ids), "one reminder per registration"


def test_grace_periods_follow_the_event_settings(session: Session) -> None:
    event = demo_event(session)
    event.payment_grace_hours, event.reject_grace_hours = 2, 10
    reg = make_registration(session, event, **UNPAID)  # deadline NOW+24h, expiry NOW+26h
    assert reg.expires_at == later(26)
    assert deadlines.expire_unpaid(session, now=later(25.9)) == []
    other = make_registration(session, event, **UNPAID)
    photo = send_photo(session, other, hours=1)
    assert photo.payment is not None
    rejected = rejection.reject(
        session,
        payment_id=photo.payment.id,
        actor=make_staff(session),
        reason="other",
        now=later(20),
    )
    assert rejected.deadline == later(30), "reject grace: 10 h from the rejection"
    assert other.expires_at == later(32), "payment grace: 2 h after the told deadline"
    expired = deadlines.expire_unpaid(session, now=later(26))
    assert [e.registration_id for e in expired] == [reg.id]
    assert deadlines.expire_unpaid(session, now=later(31.9)) == []
    assert [e.registration_id for e in deadlines.expire_unpaid(session, now=later(32))] == [
        other.id
    ]


def test_a_reminder_set_more_than_a_week_ahead_still_fires(session: Session) -> None:
    event = demo_event(session)
    event.payment_deadline_hours, event.reminder_hours_before = 24 * 14, 24 * 10
    reg = make_registration(session, event, **UNPAID)  # deadline NOW+336h: reminder due at NOW+96h
    assert deadlines.send_reminders(session, now=later(95)) == []
    rows = deadlines.send_reminders(session, now=later(96))
    assert [r.registration_id for r in rows] == [reg.id]
