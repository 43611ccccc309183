"""Races on PostgreSQL: the last early-bird places and the last uses of a voucher.

Each runner confirms in its own unit of work from its own thread, released together, exactly as
the worker does (intake.submit + the amount, in a savepoint). The category row lock must give the
early price to exactly the places left, and the voucher row lock the code to exactly its uses left.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from core import demo
from core.db import unit_of_work, utcnow
from core.enums import Channel
from core.models import Category, PriceTier, Registration, Voucher
from core.payments import amounts
from core.registration import intake
from core.registration.vouchers import VoucherRefused

RUNNERS = 40
THREADS = 20
EARLY_LEFT = 3
USES_LEFT = 4

pytestmark = pytest.mark.usefixtures("committed_db")


def _seed(*, early_sold: int = 0, voucher_uses: int | None = None) -> tuple[int, int]:
    """The demo event: 10K with an early bird of 10 (``early_sold`` taken) and a normal tier."""
    with unit_of_work() as uow:
        session = uow.session
        event_id = demo.seed(session, admin_password="race-password-123").event_id
        cat = session.scalars(
            select(Category).where(Category.event_id == event_id, Category.code == "10K")
        ).one()
        session.add_all(
            [
                PriceTier(category_id=cat.id, name="early", price=180_000, max_sold=10),
                PriceTier(category_id=cat.id, name="normal", price=220_000, sort_order=1),
            ]
        )
        if voucher_uses is not None:
            session.add(
                Voucher(event_id=event_id, code="CLUB", value=50_000, max_uses=voucher_uses)
            )
        session.flush()
        for _ in range(early_sold):
            _confirm(event_id, session=session)
        return event_id, cat.id


def _submission(event_id: int, voucher: str | None, code: str = "10K") -> intake.Submission:
    n = uuid.uuid4().hex[:10]
    return intake.Submission(
        event_id=event_id,
        category_code=code,
        answers={"full_name": "Siti Aminah", "email": f"r{n}@example.com", "jersey_size": "M"},
        channel=Channel.WHATSAPP.value,
        chat_id=f"62812{n}",
        voucher_code=voucher,
    )


def _confirm(
    event_id: int, *, session: Any = None, voucher: str | None = None, code: str = "10K"
) -> tuple[str, Any]:
    now = utcnow()
    if session is not None:
        return "registered", intake.submit(session, submission=_submission(event_id, None), now=now)
    with unit_of_work() as uow:
        try:
            with uow.session.begin_nested():
                registration = intake.submit(
                    uow.session, submission=_submission(event_id, voucher, code), now=now
                )
                amounts.assign_amount(uow.session, registration=registration, now=now)
        except VoucherRefused as err:
            return "refused", err.key
        return "registered", registration.price


def _rush(job: Any) -> list[Any]:
    barrier = threading.Barrier(THREADS)
    started = threading.local()

    def run(n: int) -> Any:
        if not getattr(started, "done", False):
            started.done = True
            barrier.wait(timeout=30)
        try:
            return job(n)
        except BaseException as exc:  # noqa: BLE001  (the test asserts there are none)
            return ("error", repr(exc))

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(run, range(RUNNERS)))


def test_the_last_early_bird_places_go_to_exactly_that_many_runners() -> None:
    event_id, category_id = _seed(early_sold=10 - EARLY_LEFT)
    outcomes = _rush(lambda _n: _confirm(event_id))
    assert [o for o in outcomes if o[0] != "registered"] == []
    prices = Counter(o[1] for o in outcomes)
    assert prices == {180_000: EARLY_LEFT, 220_000: RUNNERS - EARLY_LEFT}
    with unit_of_work() as uow:
        early = uow.session.scalars(select(PriceTier).where(PriceTier.name == "early")).one()
        held = uow.session.scalars(
            select(Registration).where(Registration.price_tier_id == early.id)
        ).all()
    assert len(held) == 10 and {r.price for r in held} == {180_000}


def test_the_last_uses_of_a_voucher_go_to_exactly_that_many_runners() -> None:
    event_id, _ = _seed(early_sold=10, voucher_uses=USES_LEFT)
    # Two categories, so only the voucher's own lock stands between the redeemers.
    outcomes = _rush(lambda n: _confirm(event_id, voucher="club", code=("5K", "10K")[n % 2]))
    assert [o for o in outcomes if o[0] not in ("registered", "refused")] == []
    results = Counter(o[0] for o in outcomes)
    assert results == {"registered": USES_LEFT, "refused": RUNNERS - USES_LEFT}
    assert {o[1] for o in outcomes if o[0] == "refused"} == {"pricing.refused.used_up"}
    assert {o[1] for o in outcomes if o[0] == "registered"} <= {150_000 - 50_000, 220_000 - 50_000}
    with unit_of_work() as uow:
        voucher = uow.session.scalars(select(Voucher)).one()
        held = uow.session.scalars(
            select(Registration).where(Registration.voucher_id == voucher.id)
        ).all()
    assert len(held) == USES_LEFT and {r.discount for r in held} == {50_000}
