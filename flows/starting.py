"""DAFTAR / /start: begin a registration (deep-link payload preselects a category), or resume one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.enums import Channel
from core.events import catalog
from core.i18n import t, words
from core.messages import Choice, InboundMessage, Reply
from core.models import Conversation
from flows import completion, context, engine, event_steps, form, parsers, pending
from flows.registration import REGISTRATION

PLACEHOLDER_NAMES = {"Terminal", "Simulator"}


def yes_no(text: str) -> bool | None:
    """YA/1/lanjut -> True, TIDAK/2/mulai dari awal -> False, anything else -> None."""
    value = parsers.norm(parsers.unnumbered(text))
    if value in words("words.yes") or value in words("words.continue"):
        return True
    if value in words("words.no") or value in words("words.restart"):
        return False
    return None


# Answers a deep link may preset ("/start 10K") are not progress worth asking about.
_PRESET = frozenset(s.key for s in REGISTRATION.questions if s.preset)


def _drafting(conversation: Conversation) -> bool:
    """A registration draft is open (at a built-in question or one of the event's own)."""
    return conversation.state in REGISTRATION.keys or event_steps.is_event_step(conversation.state)


def _has_progress(conversation: Conversation) -> bool:
    answers = conversation.answers or {}
    drafting = _drafting(conversation)
    return drafting and any(not pending.is_internal(k) and k not in _PRESET for k in answers)


def start(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    arg: str | None,
    *,
    now: datetime,
) -> list[Reply]:
    """Start a registration, or ask whether to continue the one in progress."""
    language = conversation.language
    if _has_progress(conversation):
        pending.put(
            conversation, pending.of(conversation).awaiting(pending.RESTART, restart_arg=arg)
        )
        choices = (
            Choice(t("flow.continue_label", language), "1"),
            Choice(t("flow.restart_label", language), "2"),
        )
        return [Reply(t("flow.restart_question", language), choices=choices)]
    return fresh_start(session, conversation, message, arg, now=now)


def answer_restart(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    value: bool | None,
    *,
    now: datetime,
) -> list[Reply] | None:
    """Continue (True) or start over (False); None when the reply was something else."""
    arg = pending.of(conversation).restart_arg
    pending.put(conversation, pending.of(conversation).awaiting(None, restart_arg=None))
    if value is None:
        return None
    if value is False:
        return fresh_start(session, conversation, message, arg, now=now)
    ctx = context.build(session, conversation, now=now, message=message)
    prompt = engine.prompt(event_steps.flow_for(ctx), conversation.state, ctx)
    return [Reply(t("flow.resume", conversation.language)), prompt]


def fresh_start(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    arg: str | None,
    *,
    now: datetime,
) -> list[Reply]:
    """Begin a new draft (never holding a slot): welcome, then the first question."""
    language = conversation.language
    snapshot = catalog.snapshot(session, now=now)
    if not snapshot.open:
        return [Reply(_not_open_text(snapshot, language, now))]
    preset = _preset(snapshot, arg)
    ctx = context.build(session, conversation, now=now, message=message, answers=dict(preset))
    result = engine.start(REGISTRATION, ctx)
    conversation.state = result.state
    conversation.answers = dict(result.answers)
    conversation.failed_tries = 0
    conversation.started_at = now
    audit.record(
        session,
        actor=f"{conversation.channel}:{conversation.id}",
        action="conversation.draft_started",
        subject_type="conversation",
        subject_id=conversation.id,
        preset=preset.get("category"),
    )
    # The greeting and the first question travel as one message (fewer messages, issue 12).
    first, *rest = result.replies
    return [completion.joined(_welcome(conversation, snapshot, preset), first), *rest]


def _welcome(conversation: Conversation, snapshot: catalog.EventCatalog, preset: dict) -> Reply:
    language = conversation.language
    name = "" if conversation.channel == Channel.SIMULATOR else _first_name(conversation)
    if len(snapshot.open) == 1:
        text = t("flow.welcome", language, name=name, event_name=snapshot.open[0].name)
    else:
        text = t("flow.welcome_many", language, name=name)
    if preset.get("category"):
        text += "\n" + t("flow.preselected", language, category=preset["category"])
    text += "\n\n" + t("privacy.daftar_line", language)
    if conversation.channel in (Channel.WHATSAPP, Channel.WHATSAPP_CLOUD):
        text += "\n" + t("flow.form.offer", language)  # no buttons there: say the word
    return Reply(text)


def _first_name(conversation: Conversation) -> str:
    # The terminal chat and the simulator send no profile name; older rows may hold their placeholders.
    name = (conversation.sender_name or "").split(" ")[0][:30]
    return "" if name in PLACEHOLDER_NAMES else name


def _preset(snapshot: catalog.EventCatalog, arg: str | None) -> dict[str, Any]:
    """A start payload preselects the event and category when it still has slots.

    "10K" (a category of any open event), or the organiser's start links: "<event-slug> 10K"
    (WhatsApp text ``DAFTAR <slug> <code>``) and "<event-slug>_10K" (Telegram ``/start`` payload,
    which allows no spaces; slugs hold only a-z, 0-9 and "-", so "_" is unambiguous).
    """
    words = (arg or "").strip().replace("_", " ").split()
    if len(words) == 1:
        for event in snapshot.open:
            category = event.category(words[0])
            if category is not None and category.slots_left > 0:
                return {"event": event.slug, "category": category.code}
    event = snapshot.find(words[0].lower()) if words and len(words) <= 2 else None
    if event is None:
        return {}
    category = event.category(words[1]) if len(words) == 2 else None
    if category is not None and category.slots_left > 0:
        return {"event": event.slug, "category": category.code}
    return {"event": event.slug}


def _not_open_text(snapshot: catalog.EventCatalog, language: str, now: datetime) -> str:
    lines = []
    for event in snapshot.not_open:
        if event.opens_at and event.opens_at > now:
            lines.append(t("flow.not_open_yet", language, name=event.name,
                           opens_at=event.opens_at, tz=event.timezone))  # fmt: skip
        elif event.closes_at and event.closes_at <= now:
            lines.append(t("flow.closed", language, name=event.name,
                           closes_at=event.closes_at, tz=event.timezone))  # fmt: skip
    return "\n".join(lines) or t("flow.no_events", language)


def form_turn(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    text: str,
    *,
    now: datetime,
) -> list[Reply] | None:
    """FORMAT -> the one-message form; a filled form -> its answers. None: an ordinary message.

    Works mid-draft and when idle (a form copied from the organiser's post starts a draft itself).
    """
    wanted = form.wants_form(text)
    lines = {} if wanted else form.read_lines(REGISTRATION, text)
    if not wanted and not lines:
        return None
    if not _drafting(conversation):
        started = fresh_start(session, conversation, message, None, now=now)
        if not _drafting(conversation):
            return started  # nothing open: the same answer DAFTAR gets
    ctx = context.build(session, conversation, now=now, message=message)
    flow = event_steps.flow_for(ctx)  # with the chosen event's own questions
    if wanted:
        return [form.form_message(flow, ctx)]
    lines = form.read_lines(flow, text) or lines
    conversation.state, replies = form.apply(flow, lines, ctx, text=text)
    conversation.answers = dict(ctx.answers)
    conversation.failed_tries = 0
    return replies
