"""Custom questions per event: what the admin defines (no code), read by the chat and the exports.

An answer is stored with the other flow answers in Participant.answers under the question's key
("q<id>"), so exports and the detail page read it without a schema change; deleting a question keeps
the answers already given (they are shown under the key only). Choice options are kept as
``{"id": ..., "en": ...}`` pairs; the Indonesian text is the stored value in both languages.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.enums import QuestionKind
from core.errors import InvalidSetting
from core.models import Category, EventQuestion


@dataclass(frozen=True)
class QuestionInput:
    """What the admin form sends for one question (already stripped strings)."""

    kind: str
    label: str
    label_en: str = ""
    options_text: str = ""  # one option a line: "Indonesian | English" (English optional)
    required: bool = True
    category_codes: tuple[str, ...] = ()
    show_at_checkin: bool = False
    example: str = ""


def for_event(session: Session, event_id: int) -> list[EventQuestion]:
    """The event's questions in the order the chat asks them."""
    stmt = (
        select(EventQuestion)
        .where(EventQuestion.event_id == event_id)
        .order_by(EventQuestion.position, EventQuestion.id)
    )
    return list(session.scalars(stmt))


def parse_options(text: str) -> list[dict[str, str]]:
    """Turn "Ya | Yes" lines into option pairs; blank lines and repeats are dropped."""
    options: list[dict[str, str]] = []
    seen: set[str] = set()
    for line in text.splitlines():
        local, _, english = line.partition("|")
        local, english = local.strip()[:100], english.strip()[:100]
        if local and local.lower() not in seen:
            seen.add(local.lower())
            options.append({"id": local, "en": english or local})
    return options


def options_text(question: EventQuestion) -> str:
    """The options as the admin form shows them (the inverse of parse_options)."""
    return "\n".join(
        o["id"] if o.get("en") in ("", o["id"]) else f"{o['id']} | {o['en']}"
        for o in question.options or []
    )


def _validated(session: Session, event_id: int, data: QuestionInput) -> dict[str, Any]:
    if data.kind not in {k.value for k in QuestionKind}:
        raise InvalidSetting("Unknown question kind.")
    if not data.label:
        raise InvalidSetting("The question needs a text.")
    options = parse_options(data.options_text) if data.kind == QuestionKind.CHOICE else []
    if data.kind == QuestionKind.CHOICE and len(options) < 2:
        raise InvalidSetting("A choice question needs at least two options.")
    known = set(session.scalars(select(Category.code).where(Category.event_id == event_id)))
    codes = [c for c in data.category_codes if c in known]
    return {
        "kind": data.kind,
        "label": data.label[:200],
        "label_en": data.label_en[:200],
        "options": options,
        "required": data.required,
        "category_codes": codes,
        "show_at_checkin": data.show_at_checkin,
        "example": data.example[:200],
    }


def add(session: Session, *, event_id: int, data: QuestionInput, actor: str) -> EventQuestion:
    """Append a question at the end of the event's list (audited)."""
    values = _validated(session, event_id, data)
    last = session.scalar(
        select(func.max(EventQuestion.position)).where(EventQuestion.event_id == event_id)
    )
    question = EventQuestion(event_id=event_id, position=(last or 0) + 1, **values)
    session.add(question)
    session.flush()
    _audit(session, actor, "question.added", question, after=values)
    return question


def update(session: Session, *, question: EventQuestion, data: QuestionInput, actor: str) -> None:
    """Change a question's text, kind, options or rules (answers already given are kept)."""
    values = _validated(session, question.event_id, data)
    before = {k: getattr(question, k) for k in values}
    for name, value in values.items():
        setattr(question, name, value)
    session.flush()
    _audit(session, actor, "question.updated", question, before=before, after=values)


def move(session: Session, *, question: EventQuestion, offset: int, actor: str) -> None:
    """Move a question one place up (-1) or down (+1); positions are renumbered 1..n."""
    ordered = for_event(session, question.event_id)
    index = ordered.index(question)
    target = min(max(index + offset, 0), len(ordered) - 1)
    ordered.insert(target, ordered.pop(index))
    for position, row in enumerate(ordered, 1):
        row.position = position
    session.flush()
    _audit(session, actor, "question.moved", question, after={"position": question.position})


def delete(session: Session, *, question: EventQuestion, actor: str) -> None:
    """Delete a question; answers already given stay in the participants' answers."""
    _audit(session, actor, "question.deleted", question, before={"label": question.label})
    session.delete(question)
    session.flush()


def get(session: Session, *, event_id: int, question_id: int) -> EventQuestion | None:
    question = session.get(EventQuestion, question_id)
    return question if question is not None and question.event_id == event_id else None


def _audit(
    session: Session, actor: str, action: str, question: EventQuestion, **changes: Any
) -> None:
    audit.record(
        session,
        actor=actor,
        action=action,
        subject_type="event",
        subject_id=question.event_id,
        question_id=question.id,
        **changes,
    )


def label_in(question: Any, language: str) -> str:
    """The question's text in ``language`` (English falls back to the Indonesian text)."""
    if language == "en" and question.label_en:
        return str(question.label_en)
    return str(question.label)


def answer_text(question: Any, value: Any, language: str) -> str:
    """How a stored answer reads in the admin, exports and check-in ("-" when skipped)."""
    if value in (None, ""):
        return "-"
    if question.kind == QuestionKind.YES_NO:
        yes = {"id": "Ya", "en": "Yes"}
        no = {"id": "Tidak", "en": "No"}
        return (yes if value is True or value == "yes" else no).get(language, "Ya")
    if question.kind == QuestionKind.CHOICE and language == "en":
        for option in question.options or []:
            if option.get("id") == value:
                return str(option.get("en") or value)
    return str(value)


def answers_of(
    questions: Iterable[Any], answers: Mapping[str, Any], language: str, *, checkin_only=False
) -> list[tuple[str, str]]:
    """(label, answer) for each question asked of this participant, in the declared order."""
    return [
        (label_in(q, language), answer_text(q, answers.get(f"q{q.id}"), language))
        for q in questions
        if f"q{q.id}" in answers and (q.show_at_checkin or not checkin_only)
    ]
