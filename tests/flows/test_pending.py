"""The pending record (flows/pending.py) and the answers generated from the declaration."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from core.enums import Channel
from core.models import AuditLog, Event
from flows import engine, parsers, pending
from flows.registration import REGISTRATION
from flows.spec import Ask
from tests.answers import answers_for
from tests.flows.chat import Chat
from tests.flows.test_engine import make_ctx

LEGACY = {
    "_await": "photo",
    "_photo": {"path": "inbound/x.png", "ids": [3]},
    "_restart_arg": "10K",
    "_dropped": True,
    "_editing": True,
    "_labels": {"emergency_name": "Budi (sama)"},
    "full_name": "Siti Aminah",
}


def test_legacy_keys_are_read_once_and_replaced_by_one_key() -> None:
    loaded = pending.load(LEGACY)
    assert loaded == pending.Pending(
        kind="photo",
        photo={"path": "inbound/x.png", "ids": [3]},
        restart_arg="10K",
        dropped=True,
        editing=True,
        labels={"emergency_name": "Budi (sama)"},
    )
    stored = pending.with_pending(LEGACY, loaded)
    assert set(stored) == {"_pending", "full_name"}  # no loose underscore key survives
    assert pending.load(stored) == loaded and stored["full_name"] == "Siti Aminah"
    assert pending.with_pending(stored, pending.Pending()) == {"full_name": "Siti Aminah"}


def test_a_draft_stored_with_the_old_keys_keeps_working(session: Session, event: Event) -> None:
    chat = Chat(session)
    chat.send("DAFTAR")
    chat.answer_until("gender")
    conversation = chat.conversation
    conversation.answers = {**conversation.answers, "_await": "cancel"}  # as stored before
    session.flush()
    chat.send("YA")  # the old pending "really cancel?" is still answered
    assert chat.state == "idle" and chat.conversation.answers == {}
    assert session.query(AuditLog).filter_by(action="conversation.draft_cancelled").count() == 1


def test_the_scripted_answers_follow_the_declaration() -> None:
    questions = [s for s in REGISTRATION.questions if s.when is None]
    whatsapp = answers_for(Channel.WHATSAPP)
    assert len(whatsapp) == len(questions)
    assert whatsapp[[s.key for s in questions].index("phone")] == "YA"
    telegram = answers_for(Channel.TELEGRAM, email="a@example.com")
    assert "081234567890" in telegram and "a@example.com" in telegram
    assert len(answers_for(Channel.WHATSAPP, also=("nik",))) == len(questions) + 1


@dataclass(frozen=True)
class _Throwaway(Ask):
    """A new optional question, worded with an existing text (no catalogue change for the test)."""

    @property
    def prompt_key(self) -> str:
        return "flow.ask.medical_notes"

    @property
    def label_key(self) -> str:
        return "flow.label.medical_notes"


def test_a_new_optional_question_needs_no_change_to_the_scripted_answers() -> None:
    extra = _Throwaway("jersey_name", parsers.medical_notes, example="SITI")
    steps = list(REGISTRATION.steps)
    steps.insert(REGISTRATION.keys.index("jersey_size") + 1, extra)
    flow = replace(REGISTRATION, name="registration-plus", steps=tuple(steps))
    ctx = make_ctx()
    result = engine.start(flow, ctx)
    for text in [*answers_for(Channel.WHATSAPP, flow=flow), "YA"]:
        result = engine.advance(flow, result.state, text, ctx)
        assert not result.invalid, (result.state, text)
    assert result.completed and ctx.answers["jersey_name"] == "SITI"
