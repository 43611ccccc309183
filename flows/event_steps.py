"""Steps an event adds to the static registration flow at run time, after the built-in questions.

The organiser's custom questions (core/events/questions.py, in their declared order), the waiver
when the event has terms, and for a minor (younger than the event's minor age on race day) the
parent or guardian's name, phone and relation and a photo of the signed consent letter. They are
plain Ask steps, so validation, examples, edit-at-summary and resume work as for built-in ones.
flow_for() returns REGISTRATION itself for an event that adds nothing.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from typing import Any

from core.enums import QuestionKind
from core.events.catalog import CatalogEvent, CatalogQuestion
from core.i18n import t, words
from flows import parsers
from flows.registration import REGISTRATION
from flows.spec import Answer, Ask, Confirm, Ctx, Flow, Invalid, Option

LETTER = "consent_letter"
GUARDIAN = ("guardian_name", "guardian_phone", "guardian_relation")
FIXED_KEYS = ("waiver", *GUARDIAN, LETTER)  # besides the questions' own "q<id>" keys
_EVENT_STEP = re.compile(r"q\d+|" + "|".join(FIXED_KEYS))
_FLOWS: dict[str, Flow] = {}
MAX_TEXT = 200


def is_event_step(state: str | None) -> bool:
    """Whether ``state`` is a step only some events add (a draft in progress sits there)."""
    return bool(state) and _EVENT_STEP.fullmatch(str(state)) is not None


def flow_for(ctx: Ctx) -> Flow:
    """The registration flow for the chosen event: REGISTRATION plus the event's own steps."""
    event = ctx.event
    if event is None or not (event.questions or event.waiver_text or event.minor_age):
        return REGISTRATION
    # The machine's conditions close over the steps: a changed question needs a new machine.
    shape = repr((REGISTRATION.keys, event.questions, bool(event.waiver_text), event.minor_age))
    name = f"{REGISTRATION.name}:{event.id}:{hashlib.sha1(shape.encode()).hexdigest()[:12]}"
    flow = _FLOWS.get(name)
    if flow is None:
        base = REGISTRATION.steps
        at = next(i for i, s in enumerate(base) if isinstance(s, Confirm))
        extra = _steps(event)
        flow = _FLOWS[name] = Flow(
            name, (*base[:at], *extra, *base[at:]), REGISTRATION.max_failures
        )
    return flow


def _steps(event: CatalogEvent) -> tuple[Ask, ...]:
    steps = [question_step(q) for q in event.questions]
    if event.waiver_text:
        steps.append(WAIVER)
    if event.minor_age:
        steps.extend(MINOR_STEPS)
    return tuple(steps)


# --- custom questions -------------------------------------------------------------------------


def question_step(q: CatalogQuestion) -> Ask:
    """One organiser-defined question as an Ask step keyed "q<id>"."""
    kind = q.kind
    choices = _options(q) if kind in (QuestionKind.CHOICE, QuestionKind.YES_NO) else None
    return Ask(
        q.key,
        _parser(q, choices),
        example=q.example or _EXAMPLES.get(kind, "-"),
        choices=choices,
        when=_for_categories(q),
        display=_display(q),
        prompt_text=lambda ctx: _prompt(q, ctx),
        label_text=lambda language: _label(q, language),
    )


_EXAMPLES = {QuestionKind.NUMBER: "42", QuestionKind.DATE: "17-08-2026", QuestionKind.YES_NO: "1"}


def _label(q: CatalogQuestion, language: str) -> str:
    return q.label_en if language == "en" and q.label_en else q.label


def _prompt(q: CatalogQuestion, ctx: Ctx) -> str:
    return t(
        "questions.ask",
        ctx.language,
        label=_label(q, ctx.language),
        kind=q.kind,
        optional=not q.required,
    )


def _for_categories(q: CatalogQuestion):  # type: ignore[no-untyped-def]
    if not q.category_codes:
        return None
    codes = {c.lower() for c in q.category_codes}
    return lambda ctx: str(ctx.answers.get("category") or "").lower() in codes


def _options(q: CatalogQuestion):  # type: ignore[no-untyped-def]
    def choices(ctx: Ctx) -> list[Option]:
        if q.kind == QuestionKind.YES_NO:
            return [
                Option("yes", t("flow.yes_label", ctx.language)),
                Option("no", t("flow.no_label", ctx.language)),
            ]
        return [
            Option(local, english if ctx.language == "en" else local)
            for local, english in q.options
        ]

    return choices


def _skipped(q: CatalogQuestion, text: str) -> bool:
    return not q.required and parsers.norm(text) in {"-", *words("words.skip")}


def _parser(q: CatalogQuestion, choices):  # type: ignore[no-untyped-def]
    def parse(text: str, ctx: Ctx) -> Any:
        if _skipped(q, text):
            return ""
        if choices is not None:
            if q.kind == QuestionKind.YES_NO and (value := _yes_no(text)) is not None:
                return Answer(value, label=t(f"flow.{value}_label", ctx.language))
            option = parsers.pick(text, choices(ctx))
            return Answer(option.value, label=option.label)
        if q.kind == QuestionKind.TEXT:
            return _text(text, q.example)
        return _PARSERS[q.kind](text)

    return parse


def _yes_no(text: str) -> str | None:
    value = parsers.norm(text)
    if value in words("words.yes") and value != "1":
        return "yes"
    if value in words("words.no") and value != "2":
        return "no"
    return None


def _text(text: str, example: str = "") -> str:
    value = parsers.clean(text)
    if not value or value == "-":
        # No generic example fits every free-text question: only the organiser's, when given.
        raise Invalid("questions.invalid.text", example=example)
    if len(value) > MAX_TEXT:
        raise Invalid("flow.invalid.too_long", limit=MAX_TEXT)
    return value


def _number(text: str) -> str:
    value = parsers.norm(text).replace(",", ".")
    if not re.fullmatch(r"-?\d{1,9}(\.\d{1,3})?", value):
        raise Invalid("questions.invalid.number")
    return value


def _date(text: str) -> str:
    day = parsers.parse_date(text)
    if day is None or not 1900 <= day.year <= 2100:
        raise Invalid("flow.invalid.date")
    return day.isoformat()


_PARSERS = {QuestionKind.NUMBER: _number, QuestionKind.DATE: _date}


def _display(q: CatalogQuestion):  # type: ignore[no-untyped-def]
    def display(value: Any, language: str) -> str:
        if value in (None, ""):
            return "-"
        if q.kind == QuestionKind.DATE:
            return date.fromisoformat(value).strftime("%d-%m-%Y")
        if q.kind == QuestionKind.YES_NO:
            return t(f"flow.{value}_label", language) if value in ("yes", "no") else str(value)
        return str(value)

    return display


# --- the waiver -------------------------------------------------------------------------------


def _waiver_prompt(ctx: Ctx) -> str:
    event = ctx.event
    if event is None:
        return ""
    text = (
        event.waiver_text_en if ctx.language == "en" and event.waiver_text_en else event.waiver_text
    )
    return t("questions.waiver.ask", ctx.language, text=text, url=event.waiver_url)


def _waiver_options(ctx: Ctx) -> list[Option]:
    return [Option("agree", t("questions.waiver.agree_label", ctx.language))]


def _accept_waiver(text: str, ctx: Ctx) -> str:
    value = parsers.norm(parsers.unnumbered(text))
    if value in words("words.agree") or value in {"1", "agree"}:
        return ctx.now.isoformat()  # the time of acceptance is the answer
    raise Invalid("questions.invalid.waiver")


def _show_waiver(_value: Any, language: str) -> str:
    return t("questions.waiver.accepted", language)


WAIVER = Ask(
    "waiver",
    _accept_waiver,
    example="SETUJU",
    choices=_waiver_options,
    display=_show_waiver,
    prompt_text=_waiver_prompt,
    editable=False,
)


# --- minors -----------------------------------------------------------------------------------


def is_minor(ctx: Ctx) -> bool:
    """Younger than the event's minor age on race day (by the answered date of birth)."""
    event = ctx.event
    born = ctx.answers.get("date_of_birth")
    if event is None or not event.minor_age or not born:
        return False
    return parsers.age_on(date.fromisoformat(str(born)), event.race_date) < event.minor_age


def _guardian_phone(text: str, _ctx: Ctx) -> str:
    number = parsers.any_phone(text)
    if number is None:
        raise Invalid("flow.invalid.phone")
    return number


def _relation(text: str, _ctx: Ctx) -> str:
    value = parsers.clean(text)
    if not value or value == "-" or len(value) > 50:
        raise Invalid("questions.invalid.relation")
    return value


def _letter_by_text(_text: str, _ctx: Ctx) -> str:
    # The letter is a photo: the runtime takes it (flows/runtime.py); typed text cannot answer.
    raise Invalid("questions.invalid.letter_photo")


def _show_letter(_value: Any, language: str) -> str:
    return t("questions.letter.received", language)


MINOR_STEPS = (
    Ask("guardian_name", parsers.person_name, example="Budi Santoso", when=is_minor),
    Ask("guardian_phone", _guardian_phone, example="081298765432", when=is_minor),
    Ask("guardian_relation", _relation, example="Ayah", when=is_minor),
    Ask(LETTER, _letter_by_text, example="📷", when=is_minor, display=_show_letter),
)
