"""Property: random text and images in random states never raise and never leave a bad registration."""

from __future__ import annotations

import os
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.enums import ACTIVE_STATUSES, Channel
from core.models import Category, Event, JerseyStock, Registration
from flows import runtime
from flows.parsers import EMAIL_RE
from flows.registration import REGISTRATION
from flows.spec import Ask, Invalid
from tests.flows.chat import DEFAULTS, Chat

WORDS = ["DAFTAR", "/start 10K", "YA", "ya", "1", "2", "7", "10", "13", "BATAL", "STATUS", "TIKET",
         "MENU", "BANTUAN", "BAHASA", "language en", "semua", "-", "tidak", "L", "P", "Siti", "9999",
         "17 Agustus 1990", "01-01-2014", "0812", "081298765432", "SAMA", "kategori", "21K", "@",
         "2. Tidak", ""]  # fmt: skip
# Edits from the summary: a summary number, then answers that may clash with others (the runner's
# phone set to the emergency phone, a category the date of birth does not fit, "keep" words).
EDIT_VALUES = ["081298765432", "081377778888", "081211110000", "ya", "SAMA", "tetap", "kategori",
               "5K", "10K", "21K", "01-01-2014", "17-08-1990", "Budi Santoso", "Rina", "L", "XS",
               "XXL", "AB", "-", "baru@example.com", "BATAL", "1", "2", "zzz"]  # fmt: skip
# Half of the draws aim at the dependent answers: phone (7), category (2), birth date (5),
# emergency contact (9, 10) and values that clash with the other answers.
PICK = st.one_of(st.sampled_from(["7", "2", "5", "9", "10"]), st.integers(1, 14).map(str))
EDIT = st.one_of(
    st.sampled_from(["081298765432", "081377778888", "SAMA", "kategori", "21K", "01-01-2014"]),
    st.sampled_from(EDIT_VALUES),
)
EXAMPLES = [s.example for s in REGISTRATION.questions] + list(DEFAULTS.values())

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


def _examples(quick: int) -> int:
    """A short budget in `make test`; `make fuzz` (HYPOTHESIS_PROFILE=fuzz) runs twenty times more."""
    return quick * 20 if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else quick


def check_summary(chat: Chat) -> None:
    """At the summary, every applicable answer is present and passes its re-check."""
    ctx = runtime.ctx_for(chat.session, chat.conversation, now=chat.now)
    for step in REGISTRATION.questions:
        if not step.applies(ctx):
            continue
        assert step.key in ctx.answers, step.key
        if isinstance(step, Ask) and step.recheck is not None:
            try:
                step.recheck(ctx.answers[step.key], ctx)
            except Invalid as err:  # pragma: no cover - the failure message names the answer
                raise AssertionError(f"{step.key} fails {err.key} at the summary") from err
    assert ctx.answers["emergency_phone"] != ctx.answers["phone"]


@settings(
    max_examples=_examples(15),
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
            values = chat.values({"phone": "081377778888"})
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


@settings(
    max_examples=_examples(20),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    edits=st.lists(
        st.tuples(PICK, st.lists(EDIT, max_size=3)),
        min_size=1,
        max_size=6,
    ),
    telegram=st.booleans(),
)
@example(edits=[("7", ["081298765432"])], telegram=False)  # the runner's phone := emergency phone
@example(edits=[("10", ["081377778888"]), ("7", ["081298765432", "SAMA"])], telegram=True)
def test_edits_from_the_summary_never_break_dependent_answers(
    session: Session, event: Event, edits: list[tuple[str, list[str]]], telegram: bool
) -> None:
    chat = Chat(session, Channel.TELEGRAM if telegram else Channel.WHATSAPP)
    nested = session.begin_nested()
    try:
        chat.send("DAFTAR")
        chat.answer_until("confirm", {"phone": "081377778888"})
        for pick, values in edits:
            if chat.state != "confirm":
                break
            chat.send(pick)
            for value in values:
                chat.send(value)
                if chat.state == "confirm":
                    check_summary(chat)
        if chat.state == "confirm":
            check_summary(chat)
            chat.send("YA")
        assert chat.state in (*REGISTRATION.keys, "idle")
        check_registrations(session)
    finally:
        nested.rollback()
