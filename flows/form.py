"""The one-message form ("format pendaftaran"): every question as a labelled line, filled at once.

The lines come from the declared flow: flows/registration.py with the chosen event's own steps
(flows/event_steps.py: its custom questions for the runner's category), so a new question appears
in the form by itself. Each filled line is parsed with that question's own parser, in flow order (the
category is known before the birth date is checked against it); only the missing or refused
answers are then asked one by one, in the engine's editing mode, and the summary follows.
"""

from __future__ import annotations

import re
from dataclasses import replace

from core.i18n import LANGUAGES, overrides_token, t, words
from core.messages import Reply
from flows import engine, event_steps, parsers, pending, render
from flows.spec import Ask, Ctx, Flow, Invalid

# "1. Nama lengkap (sesuai KTP): Siti" -> label "Nama lengkap", value "Siti". Bullets and numbers
# copied from the form or typed by habit are ignored; ":" or "=" separates.
_LINE_RE = re.compile(
    r"^\s*(?:[-•*]+\s*|\d{1,2}[.)]\s*)?(?P<label>[^:=\n]{1,60}?)\s*[:=]\s*(?P<value>.*)$"
)
_PAREN_RE = re.compile(r"\([^)]*\)")
# Between two runners' forms in a club leader's list: a blank line, or a line of dashes (=, _, *).
_SEPARATOR_RE = re.compile(r"^\s*(?:[-=_*~.•]\s*){3,}$")
MIN_LINES = 2  # fewer labelled lines is an ordinary answer ("Catatan: tidak ada")


def wants_form(text: str) -> bool:
    """Whether the runner asked for the form ("FORMAT", "form", "format pendaftaran")."""
    return parsers.norm(text) in words("words.form")


def form_message(flow: Flow, ctx: Ctx) -> Reply:
    """The form: an intro, then one "Label: " line per question that may apply."""
    event = ctx.event
    head = t("flow.form.intro", ctx.language, event_name=event.name if event else "")
    lines = [_line(step, ctx) for step in _questions(flow, ctx)]
    return Reply(head + "\n\n" + "\n".join(lines))


def _questions(flow: Flow, ctx: Ctx) -> list[Ask]:
    """Questions that apply now, or for some open event while none is chosen yet (e.g. NIK), or
    for some category while none is chosen (an event's question for 21K runners only)."""
    if ctx.event is not None or not ctx.catalog.open:
        return [s for s in flow.questions if s.applies(ctx) or _only_for(s, ctx)]
    found = []
    for step in flow.questions:
        trials = [replace(ctx, answers={**ctx.answers, "event": e.slug}) for e in ctx.catalog.open]
        if step.chooses_event and step.applies(ctx) or any(step.applies(c) for c in trials):
            found.append(step)
    return found


def _only_for(step: Ask, ctx: Ctx) -> list[str]:
    """The categories a question is asked in, when it applies only in some and none is chosen."""
    event = ctx.event
    if event is None or ctx.answers.get("category") or step.key == "category":
        return []
    codes = [c.code for c in event.categories]
    asked = [c for c in codes if step.applies(replace(ctx, answers={**ctx.answers, "category": c}))]
    return asked if len(asked) < len(codes) else []


def _line(step: Ask, ctx: Ctx) -> str:
    label = render.label_of(step, ctx.language)
    notes = []
    if codes := _only_for(step, ctx):
        notes.append(t("flow.form.only_for", ctx.language, categories=" / ".join(codes)))
    options = [o.label for o in render.options_of(step, ctx) if o.enabled] if ctx.event else []
    if options and not step.chooses_event:
        notes.append(t("flow.form.options", ctx.language, options=" / ".join(options)))
    elif step.chooses_event and ctx.catalog.open:
        notes.append(" / ".join(e.name for e in ctx.catalog.open))
    if notes:  # one bracket: the reader drops it before finding the colon
        label += f" ({' · '.join(notes)})"
    return f"{label}: {_prefill(step, ctx)}"


def _prefill(step: Ask, ctx: Ctx) -> str:
    """The answer already known (a preset category; the WhatsApp sender's own number)."""
    if step.key in ctx.answers:
        return render.display_value(step, ctx.answers, ctx.language)
    if step.share_contact and ctx.known_phone:
        return parsers.to_e164(ctx.known_phone) or ""
    return ""


def read_lines(flow: Flow, text: str) -> dict[str, str]:
    """Map each labelled line to its question's key; {} unless at least MIN_LINES are labelled."""
    labels = _label_table(flow)
    found: dict[str, str] = {}
    for line in text.splitlines():
        pair = _labelled(line, labels)
        if pair is not None and pair[0] not in found:
            found[pair[0]] = pair[1]
    return found if len(found) >= MIN_LINES else {}


def read_blocks(flow: Flow, text: str) -> list[dict[str, str]]:
    """A club leader's list: one filled form per runner, each read like ``read_lines``.

    A runner's block ends at a blank line, a line of dashes, or a label it already has (the
    first label repeated: forms pasted one under the other). A piece without a name that shares
    no label with the block before it is that block's rest (a blank line inside one form).
    """
    labels = _label_table(flow)
    blocks: list[dict[str, str]] = [{}]
    for line in text.splitlines():
        if not line.strip() or _SEPARATOR_RE.match(line):
            blocks.append({})
            continue
        pair = _labelled(line, labels)
        if pair is None:
            continue
        if pair[0] in blocks[-1]:
            blocks.append({})
        blocks[-1][pair[0]] = pair[1]
    merged: list[dict[str, str]] = []
    for block in (b for b in blocks if b):
        previous = merged[-1] if merged else None
        if previous is not None and "full_name" not in block and not previous.keys() & block:
            previous.update(block)
        else:
            merged.append(block)
    return [b for b in merged if len(b) >= MIN_LINES]


def _labelled(line: str, labels: dict[str, str]) -> tuple[str, str] | None:
    """(question key, value) of a "Label: value" line, or None."""
    # "(pilih: 5K / 10K)" copied from the form holds a colon of its own: drop it first.
    match = _LINE_RE.match(_PAREN_RE.sub(" ", line, count=1))
    if match is None:
        return None
    key = _key_for(match["label"], labels)
    return None if key is None else (key, match["value"].strip())


def _norm_label(text: str) -> str:
    plain = parsers.norm(_PAREN_RE.sub(" ", text))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


# flow name -> (the flow, the organiser overrides in force, its label table): every text message is
# tried as a form (and as a club leader's list), and the table renders ~60 labels.
_LABEL_TABLES: dict[str, tuple[Flow, object, dict[str, str]]] = {}


def _label_table(flow: Flow) -> dict[str, str]:
    """Every accepted label (both languages, and the key itself) -> question key (do not mutate).

    Built once per flow and per set of organiser overrides (a label's text may be overridden).
    """
    token = overrides_token()
    cached = _LABEL_TABLES.get(flow.name)
    if cached is not None and cached[0] is flow and cached[1] is token:
        return cached[2]
    table = _build_label_table(flow)
    _LABEL_TABLES[flow.name] = (flow, token, table)
    return table


def _build_label_table(flow: Flow) -> dict[str, str]:
    table: dict[str, str] = {}
    for step in flow.questions:
        names = [render.label_of(step, lang) for lang in LANGUAGES] + [step.key.replace("_", " ")]
        names += sorted(_aliases(step.key))
        for name in names:
            table.setdefault(_norm_label(name), step.key)
    return table


def _aliases(key: str) -> frozenset[str]:
    """Other labels runners type for a line ("no wa", "nama", "goldar"): common words.form_label."""
    try:
        return words(f"words.form_label.{key}")
    except KeyError:
        return frozenset()


def _key_for(label: str, table: dict[str, str]) -> str | None:
    """Exact label first; else the one label this text starts (or is started by): "Nama" -> name."""
    value = _norm_label(label)
    if not value:
        return None
    if value in table:
        return table[value]
    close = {k for name, k in table.items() if len(value) >= 3 and _prefix(name, value)}
    return close.pop() if len(close) == 1 else None


def _prefix(name: str, value: str) -> bool:
    a, b = name.split(), value.split()
    shorter, longer = (a, b) if len(a) <= len(b) else (b, a)
    return longer[: len(shorter)] == shorter


def apply(
    flow: Flow, lines: dict[str, str], ctx: Ctx, *, head: bool = True, text: str = ""
) -> tuple[str, list[Reply]]:
    """Parse every filled line into ``ctx.answers``; return (state, replies) to continue with.

    The state is the first question still unanswered, in editing mode (the engine then skips
    answered ones and returns to the summary), or the summary itself when nothing is missing.
    ``head`` False: only the question (the caller already said what was refused).
    When the form itself chose the event (several open), its own questions' lines are read from
    ``text`` with that event's flow and parsed after the built-in ones.
    """
    problems: list[str] = []
    done: set[str] = set()
    while True:
        problems += [line for line, _step in _parse_lines(flow, lines, ctx, done)]
        wider = event_steps.flow_for(ctx)
        if wider is flow or not text:
            break
        flow, lines = wider, read_lines(wider, text) or lines
    _drop_stale(flow, ctx)
    state = engine.first_state(flow, ctx)
    editing = state != "confirm"
    pending.store(ctx.answers, replace(pending.load(ctx.answers), editing=editing))
    prompt = engine.prompt(flow, state, ctx)
    if not head:
        return state, [prompt]
    intro = t("flow.form.read", ctx.language)
    if problems:
        intro += "\n" + t("flow.form.problems", ctx.language) + "\n" + "\n".join(problems)
    return state, [replace(prompt, text=f"{intro}\n\n{prompt.text}")]


def parse_into(flow: Flow, lines: dict[str, str], ctx: Ctx) -> list[tuple[str, Ask]]:
    """Store every filled line that parses in ``ctx.answers``; return (problem line, step) of the rest."""
    problems = _parse_lines(flow, lines, ctx, set())
    _drop_stale(flow, ctx)
    return problems


def _parse_lines(
    flow: Flow, lines: dict[str, str], ctx: Ctx, done: set[str]
) -> list[tuple[str, Ask]]:
    """Each filled line not parsed yet, by its own question's parser, in flow order."""
    problems: list[tuple[str, Ask]] = []
    for step in flow.questions:
        value = lines.get(step.key, "")
        if step.key in done or not value or not step.applies(ctx):
            continue
        done.add(step.key)
        try:
            engine._store(step, step.parse(value, ctx), ctx)  # noqa: SLF001  (the engine's own store)
        except Invalid as err:
            ctx.answers.pop(step.key, None)
            reason = t(err.key, ctx.language, **err.params)
            label = render.label_of(step, ctx.language)
            line = t("flow.form.problem_line", ctx.language, label=label, reason=reason)
            problems.append((line, step))
    return problems


def _drop_stale(flow: Flow, ctx: Ctx) -> None:
    """Forget answers that no longer apply or no longer fit (a birth date outside the new category)."""
    for step in flow.questions:
        if step.key not in ctx.answers:
            continue
        if not step.applies(ctx):
            ctx.answers.pop(step.key)
            continue
        if step.recheck is not None:
            try:
                step.recheck(ctx.answers[step.key], ctx)
            except Invalid:
                ctx.answers.pop(step.key)
