"""The waiting list in the chat: ANTRE/WAITLIST joins, ANTREAN/POSITION shows, YA takes an offer,
KELUAR ANTREAN / LEAVE WAITLIST leaves (after a yes/no)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.events.catalog import CatalogEvent
from core.formatting import format_datetime
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.models import Category, Conversation
from core.models.waitlist import HOLDING, WaitlistEntry, WaitlistStatus
from core.registration import waitlist
from flows import context, engine, event_steps, pending

Pick = tuple[str, str | None]  # (category code, jersey size or None)


def join(
    session: Session, conversation: Conversation, arg: str | None, *, now: datetime
) -> list[Reply]:
    """Put the chat on the list of the sold-out category (or size) it just ran into."""
    language = conversation.language
    ctx = context.build(session, conversation, now=now)
    event = ctx.event
    pick = _pick(event, conversation.state, ctx.answers, arg) if event else None
    if event is None or pick is None:
        example = _example(event, ctx.answers) if event else None
        key = "waitlist.which" if example else "waitlist.nothing"
        return [Reply(t(key, language, example=example or ""))]
    code, size = pick
    catalog_category = event.category(code)
    category = session.get(Category, catalog_category.id) if catalog_category else None
    if category is None:
        return [Reply(t("waitlist.nothing", language))]
    answers = {k: v for k, v in ctx.answers.items() if not pending.is_internal(k)}
    answers.update(event=event.slug, category=category.code)
    if size:
        answers["jersey_size"] = size
    chat = {
        "channel": str(conversation.channel),
        "chat_id": conversation.chat_id,
        "conversation_id": conversation.id,
        "language": language,
        "name": str(answers.get("full_name") or conversation.sender_name or "")[:200],
    }
    joined = waitlist.join(session, category=category, jersey_size=size, chat=chat,
                           answers=answers, now=now)  # fmt: skip
    conversation.state, conversation.answers, conversation.failed_tries = "idle", {}, 0
    key = "waitlist.already" if joined.already else "waitlist.joined"
    return [Reply(t(key, language, category=category.code, size=size or "",
                    position=joined.position))]  # fmt: skip


def _pick(event: CatalogEvent, state: str, answers: dict[str, Any], arg: str | None) -> Pick | None:
    full = [c.code for c in event.categories if c.slots_left <= 0]
    gone = [j.size for j in event.jersey if j.left <= 0]
    chosen = answers.get("category")
    if arg:
        code = next((c for c in full if c.lower() == arg.lower()), None)
        if code:
            return code, None
        size = next((s for s in gone if s.lower() == arg.lower()), None)
        return (str(chosen), size) if size and chosen else None
    if state == "jersey_size" and chosen and len(gone) == 1:
        return str(chosen), gone[0]
    if state != "jersey_size" and chosen in full:
        return str(chosen), None
    if state == "category" and len(full) == 1:
        return full[0], None
    return None


def _example(event: CatalogEvent, answers: dict[str, Any]) -> str | None:
    full = [c.code for c in event.categories if c.slots_left <= 0]
    gone = [j.size for j in event.jersey if j.left <= 0] if answers.get("category") else []
    return next(iter(full + gone), None)


def position_replies(session: Session, conversation: Conversation) -> list[Reply]:
    """ANTREAN / POSITION: every list the chat is on, with its place or its held slot."""
    lines = status_lines(session, conversation)
    return [Reply(lines or t("waitlist.none", conversation.language))]


def status_lines(session: Session, conversation: Conversation) -> str:
    """The chat's waiting-list lines (empty when it is on none), for STATUS and ANTREAN."""
    entries = waitlist.for_chat(session, channel=conversation.channel, chat_id=conversation.chat_id)
    if not entries:
        return ""
    items = [_item(session, e, conversation.language) for e in entries]
    return t("waitlist.header", conversation.language) + "\n" + "\n".join(items)


def _item(session: Session, entry: WaitlistEntry, language: str) -> str:
    category = session.get(Category, entry.category_id)
    code = category.code if category else "-"
    until = _until(entry, category, language)
    return t(f"waitlist.item_{entry.status}", language, category=code, size=entry.jersey_size or "",
             position=waitlist.position(session, entry), until=until)  # fmt: skip


def _until(entry: WaitlistEntry, category: Category | None, language: str) -> str:
    if entry.hold_until is None:
        return ""
    zone = category.event.timezone if category else "Asia/Jakarta"
    return format_datetime(entry.hold_until, language, zone)


def accept_offer(
    session: Session,
    conversation: Conversation,
    yes: bool | None,
    *,
    now: datetime,
    drafting: bool = False,
) -> list[Reply] | None:
    """YA to a held slot: restore the answers and go on from there.

    With a draft in progress only a fresh offer takes the YA (once accepted, YA answers the draft
    again); the draft's answers for the same event are kept under the ones the runner waited with.
    """
    if yes is not True:
        return None
    statuses = (WaitlistStatus.OFFERED.value,) if drafting else HOLDING
    entry = waitlist.offered_to(
        session, channel=conversation.channel, chat_id=conversation.chat_id, statuses=statuses
    )
    if entry is None:
        return None
    language = conversation.language
    if not waitlist.accept(session, entry, now=now):
        return [Reply(t("waitlist.offer_gone", language))]
    answers = _resumed(conversation, entry) if drafting else dict(entry.answers)
    if entry.held_jersey:
        answers["jersey_size"] = entry.held_jersey
    ctx = context.build(session, conversation, now=now, answers=answers)
    flow = event_steps.flow_for(ctx)
    state = engine.first_state(flow, ctx)
    conversation.state, conversation.answers = state, dict(ctx.answers)
    conversation.failed_tries = 0
    category = session.get(Category, entry.category_id)
    text = t("waitlist.accepted", language, category=category.code if category else "",
             until=_until(entry, category, language))  # fmt: skip
    return [Reply(text), engine.prompt(flow, state, ctx)]


def _resumed(conversation: Conversation, entry: WaitlistEntry) -> dict[str, Any]:
    draft = {k: v for k, v in (conversation.answers or {}).items() if not pending.is_internal(k)}
    same_event = draft.get("event") in (None, entry.answers.get("event"))
    return {**draft, **entry.answers} if same_event else dict(entry.answers)


def ask_leave(session: Session, conversation: Conversation) -> list[Reply]:
    """KELUAR ANTREAN / LEAVE WAITLIST: name the lists and ask for a yes/no first."""
    entries = waitlist.for_chat(session, channel=conversation.channel, chat_id=conversation.chat_id)
    language = conversation.language
    if not entries:
        return [Reply(t("waitlist.none", language))]
    pending.put(conversation, pending.of(conversation).awaiting(pending.LEAVE_WAITLIST))
    items = [_item(session, e, language) for e in entries]
    return [Reply(t("waitlist.leave_confirm", language, items=items))]


def answer_leave(
    session: Session, conversation: Conversation, yes: bool | None, *, now: datetime
) -> list[Reply] | None:
    """YA leaves every list (a held slot goes to the next runner); TIDAK keeps the place."""
    language = conversation.language
    if yes is None:
        return None
    if yes is False:
        return [Reply(t("waitlist.leave_kept", language))]
    left = waitlist.leave(
        session, channel=conversation.channel, chat_id=conversation.chat_id, now=now
    )
    outbox.remember(session, waitlist.pending_outbound(session))  # the next runner's offer
    codes = [c.code for c in (session.get(Category, e.category_id) for e in left) if c]
    return [Reply(t("waitlist.left", language, categories=", ".join(codes)))]
