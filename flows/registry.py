"""Answer labelling for the admin pages and exports (the one flows module the admin imports).

``answer_rows(answers, language)`` walks the declared questions, so a new question shows up in the
admin detail page and in exports without template changes. There is one flow (registration); the
name is kept because admin/answers.py and the import contracts point here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.events.catalog import CatalogQuestion, EventCatalog
from core.i18n import t
from flows import event_steps, render
from flows.registration import REGISTRATION
from flows.spec import Answer, Ctx, Invalid

# The built-in questions, then the steps only some events add (waiver, a minor's guardian and
# letter); organiser-defined questions ("q<id>") are labelled by core.events.questions.
_QUESTIONS = (*REGISTRATION.questions, event_steps.WAIVER, *event_steps.MINOR_STEPS)


def question_keys() -> list[str]:
    """The declared question keys in order (export column order)."""
    return [step.key for step in _QUESTIONS]


def question_labels(language: str = "id") -> list[tuple[str, str]]:
    """(key, label) for every declared question, in order (export headers)."""
    return [(s.key, render.label_of(s, language)) for s in _QUESTIONS]


def answer_rows(answers: dict[str, Any], language: str = "id") -> list[tuple[str, str]]:
    """(label, display value) for every declared question present in ``answers``, in flow order."""
    return [
        (render.label_of(step, language), render.display_value(step, answers, language))
        for step in _QUESTIONS
        if step.key in answers
    ]


def parse_event_answer(question: CatalogQuestion, text: str, language: str, now: datetime) -> Any:
    """An organiser's new answer to an event question, read by the chat's own parser for it.

    Raises ValueError with the reason the chat would give (in ``language``).
    """
    step = event_steps.question_step(question)
    ctx = Ctx(language, EventCatalog(()), {}, now.date(), now)
    try:
        value = step.parse(text, ctx)
    except Invalid as err:
        raise ValueError(t(err.key, language, **err.params).replace("*", "")) from err
    return value.value if isinstance(value, Answer) else value
