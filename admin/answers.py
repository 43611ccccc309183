"""Label flow answers generically (flows.registry is the one flows module the admin may import)."""

from __future__ import annotations

import json
from typing import Any

from core.events import questions
from flows.registry import answer_rows, question_keys, question_labels


def fmt(value: Any) -> str:
    """Render one stored answer as text (for answers the flow no longer declares)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def displayed(answers: dict[str, Any], language: str = "en") -> dict[str, tuple[str, str]]:
    """Map each answer key to (label, display value): declared questions first, in flow order."""
    keys = [k for k in question_keys() if k in answers]
    out = dict(zip(keys, answer_rows(answers, language), strict=True))
    for key, value in answers.items():
        if key not in out and not _custom(key):
            out[key] = (key.replace("_", " "), fmt(value))
    return out


def _custom(key: str) -> bool:
    """An organiser-defined question's answer ("q<id>"): labelled by custom_rows instead."""
    return key[:1] == "q" and key[1:].isdecimal()


def custom_rows(
    session: Any, event_id: int, answers: dict[str, Any], language: str, *, checkin_only=False
) -> list[tuple[str, str]]:
    """(question, answer) of the event's own questions, in their declared order."""
    asked = questions.for_event(session, event_id)
    return questions.answers_of(asked, answers, language, checkin_only=checkin_only)


def rows(answers: dict[str, Any], language: str = "en") -> list[tuple[str, str]]:
    """Return (label, value) pairs for every answer, in flow order."""
    return list(displayed(answers, language).values())


def export_columns(language: str = "en") -> list[tuple[str, str]]:
    """(key, label) of every declared question, in flow order (the export's answer columns)."""
    return list(question_labels(language))


def editable_questions(session: Any, reg: Any, language: str) -> list[dict[str, Any]]:
    """The event's questions asked in this registration's category, with the value to edit."""
    answers = reg.participant.answers or {}
    code = reg.category.code.lower()
    out = []
    for q in questions.for_event(session, reg.event_id):
        if q.category_codes and code not in {c.lower() for c in q.category_codes}:
            continue
        out.append(
            {
                "id": q.id,
                "label": questions.label_in(q, language),
                "kind": q.kind,
                "required": q.required,
                "options": [o["id"] for o in q.options or []],
                "current": _editable(q.kind, answers.get(f"q{q.id}")),
            }
        )
    return out


def _editable(kind: str, value: Any) -> str:
    """A stored answer as the edit form shows it (a date as dd-mm-yyyy, yes/no as ya/tidak)."""
    if value in (None, ""):
        return ""
    if kind == "date":
        year, month, day = str(value).split("-")
        return f"{day}-{month}-{year}"
    if kind == "yes_no":
        return {"yes": "ya", "no": "tidak"}.get(str(value), str(value))
    return str(value)
