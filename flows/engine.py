"""The conversation engine: a flow compiled once into a shared transitions Machine, and advance().

The machine has model=None (one static machine for every conversation, per the transitions FAQ): each
call triggers an event on a tiny cursor object holding only ``state``. Nothing here touches the
database; the runtime loads a Ctx, calls advance(), and persists the StepResult.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from transitions import Machine

from core.i18n import t, words
from core.messages import Choice, Reply
from flows import parsers, pending, render, summary
from flows.spec import Answer, Ask, Confirm, Ctx, Flow, Invalid

DONE = "done"
CANCELLED = "cancelled"

_MACHINES: dict[str, Machine] = {}


@dataclass(frozen=True)
class StepResult:
    """The outcome of one message: where the conversation is now, and what to say."""

    state: str
    answers: dict[str, Any]
    replies: tuple[Reply, ...]
    completed: bool = False
    cancelled: bool = False
    invalid: bool = False


class _Cursor:
    """The only 'model' the shared machine ever sees: one attribute, thrown away after the call."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def compile_flow(flow: Flow) -> Machine:
    """Return the shared machine for ``flow`` (built once per process)."""
    machine = _MACHINES.get(flow.name)
    if machine is None:
        machine = _MACHINES[flow.name] = _build(flow)
    return machine


def _build(flow: Flow) -> Machine:
    keys = list(flow.keys)
    machine = Machine(
        model=None,
        states=[*keys, DONE, CANCELLED],
        initial=None,
        auto_transitions=False,
        send_event=True,
        queued=False,
    )
    for index, step in enumerate(flow.steps):
        if step.key != "confirm" and "confirm" in keys:
            # Tried first: an edited answer goes back to the summary unless a later gap needs filling.
            machine.add_transition("answer", step.key, "confirm", conditions=[_back_to_summary])
        for later in flow.steps[index + 1 :]:
            machine.add_transition("answer", step.key, later.key, conditions=[_applies(later)])
        machine.add_transition("answer", step.key, DONE)
    machine.add_transition("cancel", "*", CANCELLED)
    for step in flow.questions:
        if "confirm" in keys:
            machine.add_transition(f"edit_{step.key}", "confirm", step.key)
        if step.switch_to:
            machine.add_transition(f"edit_{step.switch_to}", step.key, step.switch_to)
    return machine


def _needs(step: Ask | Confirm, ctx: Ctx) -> bool:
    """Whether ``step`` must be (re)asked: unanswered, or its answer no longer fits."""
    if step.key not in ctx.answers:
        return True
    if isinstance(step, Ask) and step.recheck is not None:
        try:
            step.recheck(ctx.answers[step.key], ctx)
        except Invalid:
            return True
    return False


def _gaps(flow: Flow, ctx: Ctx) -> list[str]:
    return [s.key for s in flow.questions if s.applies(ctx) and _needs(s, ctx)]


def _back_to_summary(event: Any) -> bool:
    ctx: Ctx = event.kwargs["ctx"]
    return _editing(ctx) and not _gaps(event.kwargs["flow"], ctx)


def _applies(step: Ask | Confirm):  # type: ignore[no-untyped-def]
    def condition(event: Any) -> bool:
        ctx: Ctx = event.kwargs["ctx"]
        if not step.applies(ctx) or step.key in event.kwargs["just_set"]:
            return False
        return not _editing(ctx) or _needs(step, ctx)

    return condition


def _editing(ctx: Ctx) -> bool:
    return pending.load(ctx.answers).editing


def _set_editing(ctx: Ctx, editing: bool) -> None:
    pending.store(ctx.answers, replace(pending.load(ctx.answers), editing=editing))


def _fire(flow: Flow, trigger: str, state: str, ctx: Ctx, just_set: frozenset[str]) -> str:
    cursor = _Cursor(state)
    machine = compile_flow(flow)
    machine.events[trigger].trigger(cursor, ctx=ctx, flow=flow, just_set=just_set)
    return cursor.state


def first_state(flow: Flow, ctx: Ctx) -> str:
    """Return the first applicable step whose answer is missing (preset answers are skipped)."""
    for step in flow.steps:
        if step.applies(ctx) and step.key not in ctx.answers:
            return step.key
    return "confirm" if "confirm" in flow.keys else DONE


def start(flow: Flow, ctx: Ctx) -> StepResult:
    """Begin ``flow`` with the answers already in ``ctx`` (e.g. a deep-linked category)."""
    state = first_state(flow, ctx)
    _prune(flow, ctx)
    return StepResult(state, ctx.answers, (prompt(flow, state, ctx),))


def prompt(flow: Flow, state: str, ctx: Ctx) -> Reply:
    """Return the question for ``state`` (the summary for the confirm step)."""
    step = flow.step(state)
    if isinstance(step, Confirm):
        return summary.summary_reply(flow, ctx)
    return render.question(step, ctx)


def summary_options(flow: Flow, ctx: Ctx) -> list[tuple[str, str]]:
    """Summary actions in order: ("confirm", ""), ("edit", key)... or ("fields", ""), ("cancel", "")."""
    return summary.options(flow, ctx)


def advance(flow: Flow, state: str, text: str, ctx: Ctx, *, failed_tries: int = 0) -> StepResult:
    """Apply one text answer to a conversation in ``state``; ``ctx.answers`` is updated in place."""
    step = flow.step(state)
    if isinstance(step, Confirm):
        return _advance_confirm(flow, text, ctx, failed_tries)
    if _wants_switch(step, text, ctx):
        return _switch(flow, step, ctx)
    text = _take_suggestion(step, text, ctx)
    try:
        if keeps_current(step, text, ctx):
            if step.recheck is not None:
                step.recheck(ctx.answers[step.key], ctx)
            just_set: frozenset[str] = frozenset()
        else:
            just_set = _store(step, step.parse(text, ctx), ctx)
    except Invalid as err:
        return _invalid(flow, state, err, ctx, failed_tries)
    return _moved(flow, state, ctx, just_set)


def _moved(flow: Flow, state: str, ctx: Ctx, just_set: frozenset[str]) -> StepResult:
    _use_held(flow, ctx)
    new_state = _fire(flow, "answer", state, ctx, just_set)
    if new_state == "confirm":
        _set_editing(ctx, False)
    _prune(flow, ctx)
    completed = new_state == DONE
    replies = (
        () if completed else (*_recheck_notice(flow, new_state, ctx), prompt(flow, new_state, ctx))
    )
    return StepResult(new_state, ctx.answers, replies, completed=completed)


def accept(flow: Flow, state: str, value: Any, ctx: Ctx) -> StepResult:
    """Answer ``state`` with a value that did not come as text (a consent-letter photo's path)."""
    return _moved(flow, state, ctx, _store(flow.step(state), value, ctx))  # type: ignore[arg-type]


def fill_gaps(flow: Flow, result: StepResult, ctx: Ctx) -> StepResult:
    """Ask what ``flow`` still needs before the summary or the submit.

    The flow is built per event (flows/event_steps.py): after the runner switches events at the
    summary, the new event's own questions are unanswered although the old flow saw no gap.
    """
    if result.cancelled or result.invalid or result.state not in ("confirm", DONE):
        return result
    gaps = _gaps(flow, ctx)
    if not gaps:
        return result
    _set_editing(ctx, True)  # only the missing answers, then back to the summary
    return StepResult(gaps[0], ctx.answers, (prompt(flow, gaps[0], ctx),))


def _hold(state: str, err: Invalid, ctx: Ctx) -> None:
    if err.held is not None:  # other refusals keep an earlier held answer (a typo at KATEGORI)
        held = {"key": state, "value": str(err.held)}
        pending.store(ctx.answers, replace(pending.load(ctx.answers), held=held))


def _use_held(flow: Flow, ctx: Ctx) -> None:
    """Fill in a held answer (the birth date refused for 21K) once it fits (after KATEGORI -> 5K)."""
    current = pending.load(ctx.answers)
    held = current.held
    if held is None:
        return
    key = held.get("key", "")
    step = flow.step(key) if key in flow.keys else None
    if not isinstance(step, Ask) or key in ctx.answers:
        pending.store(ctx.answers, replace(current, held=None))
        return
    try:
        if step.recheck is not None:
            step.recheck(held.get("value"), ctx)
    except Invalid:
        return  # still does not fit: kept, and the question is asked as usual
    ctx.answers[key] = held.get("value")
    pending.store(ctx.answers, replace(current, held=None))


def _take_suggestion(step: Ask, text: str, ctx: Ctx) -> str:
    """YES after "did you mean …?" answers with the suggestion; any other reply drops it."""
    current = pending.load(ctx.answers)
    suggested = current.suggestion
    if suggested is None:
        return text
    pending.store(ctx.answers, replace(current, suggestion=None))
    if suggested.get("key") == step.key and parsers.norm(text) in words("words.yes"):
        return str(suggested.get("value", text))
    return text


def keeps_current(step: Ask, text: str, ctx: Ctx) -> bool:
    """Whether the runner, editing from the summary, asked to keep the current answer ("SAMA")."""
    return _editing(ctx) and step.key in ctx.answers and parsers.norm(text) in words("words.keep")


def _wants_switch(step: Ask, text: str, ctx: Ctx) -> bool:
    """Whether the runner asked to go back to ``step.switch_to`` (e.g. "KATEGORI" at the birth date)."""
    if not step.switch_to:
        return False
    label = parsers.norm(t(f"flow.label.{step.switch_to}", ctx.language))
    names = {label, step.switch_to.replace("_", " ")}
    value = parsers.norm(text)
    return value in names or any(
        value == f"{word} {name}" for name in names for word in words("words.switch")
    )


def _switch(flow: Flow, step: Ask, ctx: Ctx) -> StepResult:
    # Editing: once the other answer is given, only the questions that still need an answer follow.
    _set_editing(ctx, True)
    state = _fire(flow, f"edit_{step.switch_to}", step.key, ctx, frozenset())
    return StepResult(state, ctx.answers, (prompt(flow, state, ctx),))


def _recheck_notice(flow: Flow, state: str, ctx: Ctx) -> tuple[Reply, ...]:
    """Why an answered question is asked again (e.g. the emergency phone now equals the runner's)."""
    step = flow.step(state) if state in flow.keys else None
    if not isinstance(step, Ask) or step.recheck is None or step.key not in ctx.answers:
        return ()
    try:
        step.recheck(ctx.answers[step.key], ctx)
    except Invalid as err:
        return (Reply(t(err.key, ctx.language, **err.params)),)
    return ()


def _store(step: Ask, result: Any, ctx: Ctx) -> frozenset[str]:
    current = pending.load(ctx.answers)
    labels = dict(current.labels)
    labels.pop(step.key, None)
    extra: frozenset[str] = frozenset()
    if isinstance(result, Answer):
        ctx.answers[step.key] = result.value
        ctx.answers.update(result.extra)
        if result.label is not None and result.label != result.value:
            labels[step.key] = result.label
        extra = frozenset(result.extra)
    else:
        ctx.answers[step.key] = result
    pending.store(ctx.answers, replace(current, labels=labels))
    return extra


def _prune(flow: Flow, ctx: Ctx) -> None:
    """Drop answers of questions that no longer apply (e.g. NIK after switching events)."""
    for step in flow.questions:
        if step.key in ctx.answers and not step.applies(ctx):
            ctx.answers.pop(step.key)


def _invalid(flow: Flow, state: str, err: Invalid, ctx: Ctx, failed_tries: int) -> StepResult:
    step = flow.step(state)
    _hold(state, err, ctx)
    if "suggestion" in err.params:
        return _suggest(state, err, ctx)
    example = step.example if isinstance(step, Ask) else "1"
    enabled = (
        [o for o in render.options_of(step, ctx) if o.enabled] if isinstance(step, Ask) else []
    )
    if enabled and example not in {o.label for o in enabled}:
        example = enabled[0].label  # never suggest a sold-out option
    text = render.correction(err, ctx.language, key=step.key, example=example)
    if failed_tries + 1 >= flow.max_failures:
        text += "\n\n" + t("flow.help_hint", ctx.language)
    replies = (Reply(text), prompt(flow, state, ctx))
    return StepResult(state, ctx.answers, replies, invalid=True)


def _suggest(state: str, err: Invalid, ctx: Ctx) -> StepResult:
    """Ask "did you mean …?" (a lone Yes button where buttons exist); the question is not repeated."""
    suggestion = {"key": state, "value": str(err.params["suggestion"])}
    pending.store(ctx.answers, replace(pending.load(ctx.answers), suggestion=suggestion))
    yes = Choice(t("flow.yes_label", ctx.language), "ya")
    choices = (yes,) if ctx.channel in render.BUTTON_CHANNELS else ()
    reply = Reply(t(err.key, ctx.language, **err.params), choices=choices)
    return StepResult(state, ctx.answers, (reply,), invalid=True)


def _advance_confirm(flow: Flow, text: str, ctx: Ctx, failed_tries: int) -> StepResult:
    action = summary.pick(flow, text, summary_options(flow, ctx), ctx)
    if isinstance(action, Invalid):
        return _summary_unclear(flow, action, ctx, failed_tries)
    kind, key = action
    if kind == "confirm":
        state = _fire(flow, "answer", "confirm", ctx, frozenset())
        return StepResult(state, ctx.answers, (), completed=state == DONE)
    if kind == "cancel":
        state = _fire(flow, "cancel", "confirm", ctx, frozenset())
        return StepResult(state, ctx.answers, (), cancelled=True)
    if kind == "show":
        return StepResult("confirm", ctx.answers, (prompt(flow, "confirm", ctx),))
    if kind == "fields":
        pending.store(ctx.answers, pending.load(ctx.answers).awaiting(pending.FIELD))
        return StepResult("confirm", ctx.answers, (summary.fields_reply(flow, ctx),))
    return _open_answer(flow, key, ctx)


def _open_answer(flow: Flow, key: str, ctx: Ctx) -> StepResult:
    """Open one answer from the summary; the summary follows once it is answered."""
    _set_editing(ctx, True)
    state = _fire(flow, f"edit_{key}", "confirm", ctx, frozenset())
    return StepResult(state, ctx.answers, (render.question(flow.step(state), ctx, editing=True),))


def _summary_unclear(flow: Flow, err: Invalid, ctx: Ctx, failed_tries: int) -> StepResult:
    """A short "reply YES, EDIT <part> or CANCEL" (C8): the summary is re-sent only on request."""
    text = t(err.key, ctx.language, **err.params)
    if failed_tries + 1 >= flow.max_failures:
        text += "\n\n" + t("flow.help_hint", ctx.language)
    return StepResult("confirm", ctx.answers, (Reply(text),), invalid=True)


def pick_field(flow: Flow, text: str, ctx: Ctx) -> StepResult | None:
    """The answer picked from the summary's list of answers, opened; None when none is named."""
    pending.store(ctx.answers, pending.load(ctx.answers).awaiting(None))
    key = summary.pick_field(flow, text, ctx)
    return None if key is None else _open_answer(flow, key, ctx)


def edit(flow: Flow, key: str, ctx: Ctx) -> StepResult:
    """Jump from the summary to question ``key`` (used when a category sells out at confirm)."""
    _set_editing(ctx, True)
    ctx.answers.pop(key, None)
    state = _fire(flow, f"edit_{key}", "confirm", ctx, frozenset())
    return StepResult(state, ctx.answers, (prompt(flow, state, ctx),))
