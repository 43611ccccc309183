"""Turn flow steps into Replies: questions with numbered options, the summary, corrections.

Every text comes from the catalogue (core/texts/*/flow.toml). Options travel as Reply choices: the
WhatsApp sender lists them as "1. …" lines, and for_channel() numbers Telegram's buttons the same
way, so "reply with a number 1–n" reads true on both channels.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.enums import Channel
from core.formatting import chat_value
from core.i18n import has, t
from core.messages import Choice, Reply
from flows import pending
from flows.spec import Ask, Confirm, Ctx, Flow, Invalid, Option

TELEGRAM = Channel.TELEGRAM.value
# Channels that show choices as buttons or list rows (a lone "Yes" button is worth sending there).
SUMMARY_KIND = "summary"
BUTTON_CHANNELS = frozenset({TELEGRAM, Channel.WHATSAPP_CLOUD.value})
# Longer Telegram button labels are cut on a phone: such a reply lists the full lines in its text
# and its buttons carry short labels ("1. 5K · Rp150.000").
BUTTON_LABEL_MAX = 30


def options_of(step: Ask, ctx: Ctx) -> list[Option]:
    """Return the step's options for the current answers ([] for free-text questions)."""
    return step.choices(ctx) if step.choices is not None else []


def shown(option: Option) -> str:
    """The option as listed and as a button: ``5K — Fun Run 5K, 5 km — Rp150.000 (sisa 10 slot)``."""
    return f"{option.label} — {option.detail}" if option.detail else option.label


def question(step: Ask | Any, ctx: Ctx, *, editing: bool = False) -> Reply:
    """Render one question: prompt, numbered options, and the current answer when editing."""
    variant = step.prompt_variant(ctx) if step.prompt_variant else ""
    key = f"{step.prompt_key}_{variant}" if variant else step.prompt_key
    params = step.prompt_params(ctx) if step.prompt_params else {}
    if step.prompt_text is not None:
        text = step.prompt_text(ctx)
    else:
        text = t(key, ctx.language, answers=ctx.answers, **params)
    options = options_of(step, ctx)
    if editing and step.key in ctx.answers:
        current = display_value(step, ctx.answers, ctx.language)
        text = t("flow.editing", ctx.language, current=current) + "\n\n" + text
    return Reply(text, choices=_choices(step, ctx, options, variant))


def _choices(step: Ask, ctx: Ctx, options: list[Option], variant: str) -> tuple[Choice, ...]:
    if options:
        # Every option, sold-out ones too, so the numbers the senders print match pick()'s numbers.
        return tuple(Choice(shown(o), o.value, short=o.short) for o in options)
    # A lone "Ya" button helps on Telegram; on WhatsApp it would only repeat "Balas YA" as "1. Ya".
    if variant and variant in step.yes_variants:
        buttons = ctx.channel == TELEGRAM
        return (Choice(t("flow.yes_label", ctx.language), "ya"),) if buttons else ()
    if step.share_contact:
        return (Choice(t("flow.share_contact", ctx.language), "contact", request_contact=True),)
    return ()


def for_channel(replies: list[Reply], channel: str) -> list[Reply]:
    """On Telegram, number the buttons ("1. 5K — …") so "Balas dengan angka 1–3" matches them.

    WhatsApp and the simulator number the choices themselves when listing them.
    """
    if channel != TELEGRAM:
        return replies
    return [_numbered(reply) for reply in replies]


def _numbered(reply: Reply) -> Reply:
    offered = [c for c in reply.choices if not c.request_contact]
    if len(offered) < 2:
        return reply
    numbers = {id(c): n for n, c in enumerate(offered, 1)}
    text = reply.text
    if any(len(c.label) > BUTTON_LABEL_MAX for c in offered):
        listed = "\n".join(f"{numbers[id(c)]}. {c.label}" for c in offered)
        text = f"{text}\n\n{listed}" if text else listed
        offered_label = button_label
    else:
        offered_label = _label
    choices = tuple(
        c if c.request_contact else replace(c, label=f"{numbers[id(c)]}. {offered_label(c)}")
        for c in reply.choices
    )
    return replace(reply, text=text, choices=choices)


def _label(choice: Choice) -> str:
    return choice.label


def button_label(choice: Choice) -> str:
    """A short label for a narrow button: the option's own short form, else the head of
    "Name — details", else the label cut with an ellipsis."""
    if choice.short:
        return choice.short
    head = choice.label.split(" — ", 1)[0]
    if len(head) <= BUTTON_LABEL_MAX:
        return head
    return head[: BUTTON_LABEL_MAX - 1].rstrip() + "…"


def display_value(step: Ask, answers: dict[str, Any], language: str) -> str:
    """How an answer reads in the summary, the admin and exports."""
    value = answers.get(step.key)
    label = pending.load(answers).labels.get(step.key)
    if label:
        return str(label)
    if step.display is not None and value is not None:
        return step.display(value, language)
    return "-" if value in (None, "") else str(value)


def label_of(step: Ask, language: str) -> str:
    if step.label_text is not None:
        return step.label_text(language)
    return t(step.label_key, language)


def summary(flow: Flow, ctx: Ctx, lines: list[str], question: str, price: str = "") -> Reply:
    """The summary of every answer (and the price) plus the numbered action ``lines``."""
    rows = [
        f"{label_of(s, ctx.language)}: *{chat_value(display_value(s, ctx.answers, ctx.language))}*"
        for s in flow.questions
        if s.applies(ctx) and s.key in ctx.answers
    ]
    confirm = flow.step("confirm")
    if isinstance(confirm, Confirm) and confirm.notes is not None:
        rows += ["", *confirm.notes(ctx)]
    event = ctx.event
    head = t("flow.summary.title", ctx.language, event_name=event.name if event else "")
    body = "\n".join(rows) + (f"\n\n{price}" if price else "")
    text = f"{head}\n\n{body}\n\n" + t(question, ctx.language)
    choices = tuple(Choice(line, str(n)) for n, line in enumerate(lines, 1))
    # kind "summary": the simulator's Telegram / Cloud previews show it as those channels do.
    return Reply(text, choices=choices, inline=True, kind=SUMMARY_KIND)


# Errors about how two answers relate, not how one is typed: an example would not match the problem
# (a name example under "the contact's number must differ", a date under an age limit).
NO_EXAMPLE = frozenset(
    {"flow.invalid.emergency_same", "flow.invalid.age", "questions.invalid.text"}
)


def correction(err: Invalid, language: str, *, key: str, example: str) -> str:
    """A friendly correction with an example of a valid answer."""
    if err.key in NO_EXAMPLE:
        return t(err.key, language, **err.params)
    example_key = f"flow.example.{key}"
    shown = t(example_key, language) if has(example_key, language) else example
    return (
        t(err.key, language, **err.params) + "\n" + t("flow.example_line", language, example=shown)
    )
