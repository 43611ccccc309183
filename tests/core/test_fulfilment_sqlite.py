"""The embedded SQLite default: approval, ticket and check-in work there too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from core.db import make_engine
from core.fulfilment import checkin, paid
from core.fulfilment.checkin import Outcome, Scan
from tests.factories import demo_event, make_registration

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


@pytest.mark.sqlite
def test_mark_paid_and_checkin_on_sqlite(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with Session(engine) as session, session.begin():
        event = demo_event(session)
        first, second = (
            make_registration(session, event, code="10K"),
            make_registration(session, event, code="10K"),
        )
        paid.mark_paid(session, registration=first, actor="t", now=NOW)
        paid.mark_paid(session, registration=second, actor="t", now=NOW)
        assert (first.bib, second.bib) == ("10001", "10002")
        request = Scan(event_id=event.id, code=first.ticket_token or "", desk="D1", nonce="n-1")
        assert checkin.scan(session, request=request, now=NOW).outcome is Outcome.OK
        again = Scan(event_id=event.id, code=first.number, desk="D2", nonce="n-2")
        assert checkin.scan(session, request=again, now=NOW).outcome is Outcome.ALREADY
    engine.dispose()
