"""The confirmation on the embedded SQLite default: the portable statements (no CTE, no unnest)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core.db import make_engine, utcnow
from core.errors import SoldOut
from core.payments import amounts
from core.registration import intake
from tests.factories import demo_event
from tests.flows.test_registrations_service import submission


@pytest.mark.sqlite
def test_submit_and_amount_on_sqlite(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        event = demo_event(session)
        slots = "SELECT slots_taken FROM categories WHERE event_id = :e AND code = '10K'"
        before = session.execute(text(slots), {"e": event.id}).scalar_one()
        now = utcnow()
        regs = []
        for n in range(3):
            reg = intake.submit(session, submission=submission(event, f"s{n}@example.com"), now=now)
            amounts.assign_amount(session, registration=reg, now=now)
            regs.append(reg)
        assert len({r.amount_key for r in regs}) == 3 and all(r.unique_code for r in regs)
        numbers = [int(r.number.rsplit("-", 1)[1]) for r in regs]
        assert numbers == sorted(numbers) and len(set(numbers)) == 3
        assert session.execute(text(slots), {"e": event.id}).scalar_one() == before + 3
        assert not session.dirty and not session.new
        session.execute(
            text("UPDATE jersey_stock SET taken = stock WHERE event_id = :e AND size = 'M'"),
            {"e": event.id},
        )
        with pytest.raises(SoldOut):
            intake.submit(session, submission=submission(event, "late@example.com"), now=now)
    engine.dispose()
