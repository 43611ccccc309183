"""Property: random text and images in random states never raise and never leave a bad registration."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import ACTIVE_STATUSES, Channel
from core.models import Category, Event, JerseyStock, Registration
from flows.parsers import EMAIL_RE
from flows.registration import REGISTRATION
from tests.flows.chat import ANSWERS, Chat

WORDS = ["DAFTAR", "/start 10K", "YA", "ya", "1", "2", "13", "BATAL", "STATUS", "TIKET", "MENU",
         "BANTUAN", "BAHASA", "language en", "semua", "-", "tidak", "L", "P", "Siti", "9999",
         "17 Agustus 1990", "0812", "@", ""]  # fmt: skip
EXAMPLES = [s.example for s in REGISTRATION.questions] + [v for v in ANSWERS.values() if v]

action = st.one_of(
    st.sampled_from(WORDS + EXAMPLES).map(lambda text: ("text", text)),
    st.text(max_size=60).map(lambda text: ("text", text)),
    st.just(("photo", "")),
    st.just(("photo_bad", "")),
)


def check_registrations(session: Session) -> None:
    """Every registration is complete, consistent and within quota and stock."""
    for reg in session.scalars(select(Registration)):
        p = reg.participant
        assert re.fullmatch(r"JFR-(5K|10K|21K)-\d{5}", reg.number)
        assert reg.status in {s.value for s in ACTIVE_STATUSES}
        assert p.full_name and 3 <= len(p.full_name) <= 100
        assert p.email and EMAIL_RE.match(p.email)
        assert p.phone and p.phone.startswith("+628")
        assert p.emergency_phone and p.emergency_phone != p.phone
        assert p.gender in ("M", "F") and p.date_of_birth is not None
        assert p.jersey_size and p.blood_type in ("A", "B", "AB", "O", "unknown")
        assert reg.amount_due > 0 and reg.payment_deadline is not None
    for category in session.scalars(select(Category)):
        assert 0 <= category.slots_taken <= category.quota
    for stock in session.scalars(select(JerseyStock)):
        assert 0 <= stock.taken <= stock.stock


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    prefix=st.integers(min_value=0, max_value=len(REGISTRATION.steps) + 1),
    actions=st.lists(action, max_size=12),
    telegram=st.booleans(),
)
def test_random_messages_never_raise_or_corrupt(
    session: Session, event: Event, prefix: int, actions: list[tuple[str, str]], telegram: bool
) -> None:
    chat = Chat(session, Channel.TELEGRAM if telegram else Channel.WHATSAPP)
    nested = session.begin_nested()
    try:
        chat.send("DAFTAR")
        for _ in range(prefix):  # walk to a random state with valid answers
            if chat.state in ("idle", "confirm"):
                break
            values = {**ANSWERS, "email": chat.email, "phone": "081377778888"}
            chat.send(values.get(chat.state) or "1")
        for kind, text in actions:
            if kind == "photo":
                chat.photo()
            elif kind == "photo_bad":
                chat.photo("inbound/missing.jpg")
            else:
                chat.send(text)
            assert all(reply.text for reply in chat.last if not reply.image_path)
            assert chat.state in (*REGISTRATION.keys, "idle")
        check_registrations(session)
    finally:
        nested.rollback()
