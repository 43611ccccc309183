"""A club leader's filled list in one message: one labelled form (FORMAT) per runner of the group.

In a group registration (DAFTAR GRUP) the leader may paste several filled forms at once. Each
block is read by the one-message form's parser (flows/form.py). A runner whose block is complete
and valid is submitted at once and joins the group, like a runner answered one by one. A block
with a wrong or missing line is kept in the group's marker (``queue``): the leader is told which
runner and which line, with an example, and after the valid ones each such runner's draft is
opened in turn with only the gaps to answer (then its summary, as usual).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.errors import DuplicateParticipant, SoldOut
from core.events import catalog
from core.i18n import has, t
from core.messages import InboundMessage, Reply
from core.models import Conversation
from core.registration import groups as groups_core
from core.registration import intake
from core.registration.vouchers import VoucherRefused
from flows import completion, context, event_steps, form, groups, pending, render
from flows.registration import REGISTRATION
from flows.spec import Ask, Ctx

REFUSALS = (SoldOut, DuplicateParticipant, VoucherRefused, intake.PriceChanged)


def turn(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    """Several filled forms: add the valid runners to the chat's group, queue the rest. Else None.

    Sent outside a group registration, the list opens one (several runners mean one payment).
    """
    blocks = form.read_blocks(REGISTRATION, text)
    if len(blocks) < 2:
        return None
    if groups.mark(conversation) is None:  # a list sent without DAFTAR GRUP: it is a group
        if not catalog.snapshot(session, now=now).open:
            return None  # nothing open: the single form's answer says so
        groups.set_mark(conversation, {"id": None})
        intro = [t("group.list_as_group", conversation.language)]
    else:
        intro = []
    if len(blocks) + _members_so_far(session, conversation) > groups_core.MAX_MEMBERS:
        return [Reply(t("group.full", conversation.language, limit=groups_core.MAX_MEMBERS))]
    base = _base(conversation)
    added, notes, queue = [], [], []
    for index, lines in enumerate(blocks, 1):
        ctx = context.build(session, conversation, now=now, message=message, answers=dict(base))
        problems = _problems(ctx, lines)
        name = str(ctx.answers.get("full_name") or lines.get("full_name") or "?")
        if problems:
            head = t("group.list_invalid", ctx.language, index=index, name=name)
            notes.append("\n".join([head, *problems]))
            queue.append(lines)
            continue
        refused = _submit(session, conversation, ctx, now)
        if refused:
            notes.append(t("group.list_refused", ctx.language, index=index, name=name,
                           reason=refused))  # fmt: skip
            queue.append(lines)
        else:
            added.append(name)
    return _outcome(
        session, conversation, message, len(blocks), added, intro + notes, queue, base, now
    )


def _members_so_far(session: Session, conversation: Conversation) -> int:
    group_id = (groups.mark(conversation) or {}).get("id")
    return len(groups_core.members(session, int(group_id))) if group_id else 0


def _problems(ctx: Ctx, lines: dict[str, str]) -> list[str]:
    """Each refused line, then each missing one, with an example of a valid answer."""
    refused = form.parse_into(REGISTRATION, lines, ctx)
    problems = [line + _example(step, ctx) for line, step in refused]
    seen = {step.key for _line, step in refused}
    problems += [_missing_line(s, ctx) for s in _gaps(ctx) if s.key not in seen]
    return problems


def _base(conversation: Conversation) -> dict[str, str]:
    """What every runner of the list shares with the draft in progress: the chosen event."""
    event = (conversation.answers or {}).get("event")
    return {"event": event} if event else {}


def _gaps(ctx: Ctx) -> list[Ask]:
    if ctx.event is None:
        return [s for s in REGISTRATION.questions if s.chooses_event]
    flow = event_steps.flow_for(ctx)
    return [
        s for s in flow.steps if isinstance(s, Ask) and s.applies(ctx) and s.key not in ctx.answers
    ]


def _example(step: Ask, ctx: Ctx) -> str:
    key = f"flow.example.{step.key}"
    shown = t(key, ctx.language) if has(key, ctx.language) else step.example
    return f" — {t('flow.example_line', ctx.language, example=shown)}" if shown else ""


def _missing_line(step: Ask, ctx: Ctx) -> str:
    label = render.label_of(step, ctx.language)
    return t("group.list_missing", ctx.language, label=label) + _example(step, ctx)


def _submit(session: Session, conversation: Conversation, ctx: Ctx, now: datetime) -> str | None:
    """Submit one runner of the list into the group; the refusal's text, or None when added."""
    assert ctx.event is not None  # _gaps asked for the event otherwise
    submission = completion.submission_for(conversation, ctx, event_id=ctx.event.id)
    try:
        registration = completion.submit_registration(session, submission, now=now)
    except REFUSALS as err:
        return completion.refusal_text(err, ctx)
    groups.join(session, conversation, registration)
    return None


def _outcome(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    count: int,
    added: list[str],
    notes: list[str],
    queue: list[dict[str, str]],
    base: dict[str, str],
    now: datetime,
) -> list[Reply]:
    """The list's answer: who was added, what to fix; then the first gap, or "another or done?"."""
    language = conversation.language
    head = t("group.list_received", language, count=count, added=added)
    lead = [n for n in notes[:1] if n == t("group.list_as_group", language)]
    text = "\n\n".join([*lead, head, *notes[len(lead) :]])
    marker = groups.mark(conversation) or {}
    conversation.state, conversation.answers = "idle", {}
    groups.set_mark(conversation, {**marker, "queue": queue, **base})
    if queue:
        return [Reply(text), *groups.next_queued(session, conversation, message, now=now)]
    pending.put(conversation, pending.of(conversation).awaiting(groups.MORE))
    return [Reply(text), groups.ask_more(language)]
