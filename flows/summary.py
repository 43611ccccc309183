"""The summary step's words and layouts: confirm, edit <field> in natural words, cancel.

Where choices are buttons (Telegram inline keyboard, WhatsApp Cloud API reply buttons) the summary
offers three: yes / edit / cancel, and "edit" sends the list of answers to pick from. Text-only
channels (Fonnte WhatsApp, the simulator's numbered view) keep one numbered line per answer, since
typing "6" there is quicker than two steps. Typed words work everywhere: "ubah nama",
"edit name", "ganti ukuran jersey" (synonyms per field in core/texts/*/answers.toml).
"""

from __future__ import annotations

from core.enums import Channel
from core.i18n import t, words
from core.messages import Choice, Reply
from flows import parsers, render
from flows.spec import Ctx, Flow, Invalid

# Channels whose summary is yes / edit / cancel buttons (edit then lists the answers).
COMPACT = frozenset({Channel.TELEGRAM.value, Channel.WHATSAPP_CLOUD.value})
FIELD_PREFIX = "edit:"  # the id of a row in the list of answers ("edit:email")
FILLERS = frozenset({"data", "the", "my", "saya", "nya", "answer", "jawaban", "bagian", "yang"})

Action = tuple[str, str]


def compact(ctx: Ctx) -> bool:
    return ctx.channel in COMPACT


def options(flow: Flow, ctx: Ctx) -> list[Action]:
    """Summary actions in order: ("confirm", ""), ("edit", key)… or ("fields", ""), ("cancel", "")."""
    if compact(ctx):
        return [("confirm", ""), ("fields", ""), ("cancel", "")]
    return [("confirm", ""), *(("edit", key) for key in editable(flow, ctx)), ("cancel", "")]


def editable(flow: Flow, ctx: Ctx) -> list[str]:
    """The answers the runner may change from the summary, in question order."""
    return [s.key for s in flow.questions if s.editable and s.applies(ctx) and s.key in ctx.answers]


def _synonyms(key: str) -> frozenset[str]:
    """The toml synonyms of a built-in answer ("goldar"); an event's own questions have none."""
    try:
        return words(f"words.field.{key}")
    except KeyError:
        return frozenset()


def field_named(text: str, flow: Flow, ctx: Ctx) -> str | None:
    """The answer a phrase names: "nama", "ukuran jersey", "email", a label, a list row id."""
    value = parsers.norm(text)
    if value.startswith(FIELD_PREFIX):
        key = value[len(FIELD_PREFIX) :]
        return key if key in editable(flow, ctx) else None
    value = " ".join(w for w in value.split() if w not in FILLERS)
    for key in editable(flow, ctx):
        label = parsers.norm(render.label_of(flow.step(key), ctx.language))  # type: ignore[arg-type]
        names = {label, key.replace("_", " "), *_synonyms(key)}
        if value in names:
            return key
    return None


def edit_request(text: str, flow: Flow, ctx: Ctx) -> Action | None:
    """ "ubah nama" -> ("edit", "full_name"); a bare "ubah" / "edit" -> ("fields", "")."""
    value = parsers.norm(text)
    head, _, rest = value.partition(" ")
    edit_words = words("words.summary.edit")
    if value in edit_words:
        return "fields", ""
    if head in edit_words and (key := field_named(rest, flow, ctx)):
        return "edit", key
    tail_head, _, tail = value.rpartition(" ")
    if tail in edit_words and (key := field_named(tail_head, flow, ctx)):
        return "edit", key  # "nama salah", "email wrong"
    return None


def pick(flow: Flow, text: str, actions: list[Action], ctx: Ctx) -> Action | Invalid:
    """Map "YA", a number, "ubah email", a field label or a tapped row to a summary action."""
    value = parsers.norm(text)
    if value.isdecimal() and 1 <= int(value) <= len(actions):
        return actions[int(value) - 1]
    if value in words("words.yes") or value in words("words.confirm"):
        return actions[0]
    if value in words("words.cancel"):
        return actions[-1]
    if value in words("words.summary.show"):
        return "show", ""
    for action in actions:
        if value == parsers.norm(action_label(flow, action, ctx.language, compact(ctx))):
            return action
    if (key := field_named(text, flow, ctx)) is not None:
        return "edit", key
    if (request := edit_request(text, flow, ctx)) is not None:
        return request
    return Invalid("flow.invalid.summary_short", count=len(actions), compact=compact(ctx))


def action_label(flow: Flow, action: Action, language: str, short: bool = False) -> str:
    kind, key = action
    if kind == "edit":
        step = flow.step(key)
        return t("flow.summary.edit", language, label=render.label_of(step, language))  # type: ignore[arg-type]
    if short or kind == "fields":
        return t(f"flow.summary.{kind}_short", language)
    return t(f"flow.summary.{kind}", language)


def fields_reply(flow: Flow, ctx: Ctx) -> Reply:
    """The list of answers to change (a WhatsApp Cloud list, Telegram buttons, numbered text)."""
    choices = []
    for key in editable(flow, ctx):
        step = flow.step(key)
        label = render.label_of(step, ctx.language)  # type: ignore[arg-type]
        current = render.display_value(step, ctx.answers, ctx.language)  # type: ignore[arg-type]
        choices.append(Choice(f"{label} — {current}", FIELD_PREFIX + key))
    return Reply(t("flow.summary.which_field", ctx.language), choices=tuple(choices), inline=True)


def pick_field(flow: Flow, text: str, ctx: Ctx) -> str | None:
    """The answer picked from the list of answers: its number, its row id or its name."""
    keys = editable(flow, ctx)
    head = parsers.unnumbered(text).split(" — ")[0]  # a tapped "2. Nama lengkap — Siti" button
    value = parsers.norm(head)
    if value.isdecimal() and 1 <= int(value) <= len(keys):
        return keys[int(value) - 1]
    found = field_named(text, flow, ctx) or field_named(head, flow, ctx)
    if found is None and (request := edit_request(text, flow, ctx)) and request[0] == "edit":
        found = request[1]
    return found


def summary_reply(flow: Flow, ctx: Ctx) -> Reply:
    """The summary: every answer, the price, and the actions (three buttons where buttons exist)."""
    actions = options(flow, ctx)
    short = compact(ctx)
    lines = [action_label(flow, a, ctx.language, short) for a in actions]
    question = "flow.summary.question_compact" if short else "flow.summary.question"
    return render.summary(flow, ctx, lines, question)  # the price: Confirm.notes (flows/pricing)
