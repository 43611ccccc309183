"""Every flow by name, and answer labelling for the admin pages and exports.

The admin imports this module only: ``answer_rows(answers, language)`` walks the declared questions,
so a new question shows up in the admin detail page and in exports without template changes.
"""

from __future__ import annotations

from typing import Any

from flows import render
from flows.registration import REGISTRATION
from flows.spec import Flow

FLOWS: dict[str, Flow] = {REGISTRATION.name: REGISTRATION}


def find_flow_for(command: str) -> Flow | None:
    """Return the flow a start command (e.g. "daftar") begins."""
    word = command.lower().lstrip("/")
    return next((f for f in FLOWS.values() if word in f.start_commands), None)


def question_keys(flow_name: str = "registration") -> list[str]:
    """The declared question keys in order (export column order)."""
    return [step.key for step in FLOWS[flow_name].questions]


def question_labels(language: str = "id", flow_name: str = "registration") -> list[tuple[str, str]]:
    """(key, label) for every declared question, in order (export headers)."""
    return [(s.key, render.label_of(s, language)) for s in FLOWS[flow_name].questions]


def answer_rows(
    answers: dict[str, Any], language: str = "id", flow_name: str = "registration"
) -> list[tuple[str, str]]:
    """(label, display value) for every declared question present in ``answers``, in flow order."""
    return [
        (render.label_of(step, language), render.display_value(step, answers, language))
        for step in FLOWS[flow_name].questions
        if step.key in answers
    ]
