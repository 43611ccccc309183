"""Entry point the worker calls for each inbound message: commands, photos, then the flow engine.

The caller has locked the conversation row and owns the transaction; every change made here (state,
answers, registrations) commits together with the replies it returns.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.i18n import t
from core.messages import Choice, InboundMessage, Reply
from core.messaging import texts
from core.models import Conversation
from core.registration import intake, member_links
from flows import (
    announcements,
    changes,
    commands,
    completion,
    consent,
    context,
    engine,
    event_steps,
    group_list,
    groups,
    pending,
    pricing,
    privacy,
    proofs,
    render,
    starting,
    status,
    waiting,
    waitlisting,
)
from flows.registration import REGISTRATION
from flows.spec import Ask, Ctx

IDLE = "idle"
DRAFT_TTL = timedelta(days=7)


def in_flow(conversation: Conversation) -> bool:
    """Whether a registration draft is in progress."""
    return conversation.state in REGISTRATION.keys or event_steps.is_event_step(conversation.state)


def handle_message(
    session: Session, conversation: Conversation, message: InboundMessage, *, now: datetime
) -> list[Reply]:
    """Apply one message to a locked conversation; return the replies to queue."""
    replies = _handle(session, conversation, message, now)
    _touch(conversation, now)
    return render.for_channel(replies, str(conversation.channel))


def _touch(conversation: Conversation, now: datetime) -> None:
    """Note the activity once the message is handled, flushed with the handler's own changes.

    One UPDATE of the row instead of an extra one at the handler's first query (autoflush): no
    query a handler runs reads these columns (only the idle-draft jobs do).
    """
    conversation.last_activity_at = now
    conversation.idle_reminded_at = None


def _handle(
    session: Session, conversation: Conversation, message: InboundMessage, now: datetime
) -> list[Reply]:
    texts.refresh_overrides(session, now=now)  # organiser texts, at most one query per 30 s
    # Rows stored before flows/pending.py hold loose underscore keys: convert them once.
    pending.upgrade(conversation)
    replies = _expire_draft(session, conversation, now)
    if message.device and conversation.device != message.device:
        conversation.device = message.device[:32]  # answered by the number the runner wrote to
    if message.sender_name and not conversation.sender_name:
        conversation.sender_name = message.sender_name[:200]
    if any(a.error for a in message.attachments) and not message.text:
        return replies  # the channel layer already explained the refused download
    # In a draft "ubah kategori" edits the draft's answer (the summary's edit words); the change
    # commands are for registrations already made.
    drafting = in_flow(conversation)
    change = None if drafting else changes.detect(message, drafting=drafting)
    if change is not None:  # UBAH JERSEY, GANTI KATEGORI, ALIHKAN, BATALKAN (after registering)
        _clear_await(conversation)
        started = changes.start(session, conversation, *change, now=now)
        return replies + started + _reprompt(session, conversation, message, now)
    command = commands.detect(message)
    if command is not None or proofs.first_photo(message):
        _reset_unclear(conversation)  # the next unclear text gets the whole payment reminder again
    if command is not None:
        return replies + _command(session, conversation, message, command, now)
    awaiting = pending.of(conversation).kind
    if awaiting is not None and not proofs.first_photo(message):
        text = (message.choice or message.text or "").strip()
        handler = AWAITED.get(awaiting, _forget)
        handled = handler(session, conversation, message, text, now)
        if handled is not None:
            return replies + handled
    return replies + _ordinary(session, conversation, message, now)


def _ordinary(
    session: Session, conversation: Conversation, message: InboundMessage, now: datetime
) -> list[Reply]:
    photo = proofs.first_photo(message)
    if photo is not None and conversation.state == event_steps.LETTER:
        return _letter_photo(session, conversation, message, photo.stored_path or "", now)
    if photo is not None:
        answered = consent.receive(session, conversation, photo.stored_path or "", now=now)
        if answered is None:  # a group awaiting its one payment: the photo pays for all
            answered = groups.receive_photo(session, conversation, photo, now=now)
        if answered is None:
            answered = proofs.receive(session, conversation, photo, now=now)
        if answered is None:
            answered = [proofs.guidance(conversation, in_flow=in_flow(conversation))]
        return answered + _reprompt(session, conversation, message, now)
    text = (message.choice or message.text or "").strip()
    if in_flow(conversation):
        offer = waitlisting.accept_offer(
            session, conversation, starting.yes_no(text), now=now, drafting=True
        )
        if offer is not None:  # YA to a slot just offered, with a draft in progress
            return offer
        if not text and not message.phone:
            return [Reply(t("flow.unsupported", conversation.language))] + _reprompt(
                session, conversation, message, now
            )
        return _answer(session, conversation, message, text, now)
    return _idle_text(session, conversation, message, now)


def _idle_text(
    session: Session, conversation: Conversation, message: InboundMessage, now: datetime
) -> list[Reply]:
    language = conversation.language
    if message.unsupported and not message.text:
        return [Reply(t("flow.unsupported", language))]
    offer = waitlisting.accept_offer(
        session, conversation, starting.yes_no(message.choice or message.text or ""), now=now
    )
    if offer is not None:  # YA to a slot offered from the waiting list
        return offer
    listed = group_list.turn(session, conversation, message, message.text or "", now)
    if listed is not None:  # several filled forms: a club leader's list, one group
        return listed
    filled = starting.form_turn(session, conversation, message, message.text or "", now=now)
    if filled is not None:
        return filled
    picked = commands.from_menu(message.choice or message.text or "")
    if picked is not None:  # "1".."6": the numbered menu's commands
        return _command(session, conversation, message, picked, now)
    unpaid = [r for r in proofs.payable(session, conversation) if r.status in status.UNPAID]
    if unpaid:
        return [waiting.reply(session, conversation, message.text or "", unpaid)]
    return [Reply(t("flow.menu", language))]


def _answer(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    text: str,
    now: datetime,
) -> list[Reply]:
    ctx = context.build(session, conversation, now=now, message=message)
    if ctx.event is None and not _chooses_event(conversation.state):
        # The chosen event closed mid-draft: the draft is kept (it holds no slot) in case it reopens;
        # BATAL forgets it, DAFTAR offers the events still open, and the 7-day sweep drops it.
        return [Reply(t("flow.event_gone", conversation.language))]
    listed = group_list.turn(session, conversation, message, text, now)
    if listed is not None:  # a group's leader pasted several filled forms (flows/group_list.py)
        return listed
    filled = starting.form_turn(session, conversation, message, text, now=now)
    if filled is not None:  # FORMAT, or a filled one-message form (flows/form.py)
        return filled
    flow = event_steps.flow_for(ctx)
    result = engine.advance(
        flow, conversation.state, text, ctx, failed_tries=conversation.failed_tries
    )
    conversation.failed_tries = conversation.failed_tries + 1 if result.invalid else 0
    return _after_answer(session, conversation, ctx, result, now)


def _after_answer(
    session: Session,
    conversation: Conversation,
    ctx: Ctx,
    result: engine.StepResult,
    now: datetime,
) -> list[Reply]:
    # The flow is the event's: e.g. another event's questions after switching at the summary.
    result = engine.fill_gaps(event_steps.flow_for(ctx), result, ctx)
    letter = (conversation.answers or {}).get(event_steps.LETTER)
    if letter and result.answers.get(event_steps.LETTER) != letter and not result.completed:
        consent.discard_draft_letter(letter)  # no longer a minor (birth date edited): not kept
    if result.cancelled:
        return _ask_cancel(session, conversation)  # the same yes/no as the BATAL command
    if result.completed:
        marker = groups.mark(conversation)  # a group's runner (DAFTAR GRUP): joins the group
        state, answers, replies = completion.submit(session, conversation, ctx, now=now)
        _save(conversation, state, answers)
        if marker is not None:
            return groups.after_submit(session, conversation, marker, replies, now=now)
        return replies
    _save(conversation, result.state, result.answers)
    return list(result.replies)


def _chooses_event(state: str) -> bool:
    if state not in REGISTRATION.keys:
        return False  # an event's own step: an event is chosen
    step = REGISTRATION.step(state)
    return isinstance(step, Ask) and step.chooses_event


def _save(conversation: Conversation, state: str, answers: dict[str, Any]) -> None:
    # A new dict every time: the JSON column only notices reassignment, not in-place mutation.
    conversation.state = state
    conversation.answers = dict(answers)


def _reset(conversation: Conversation) -> None:
    # A draft's consent-letter photo belongs to no registration: forget the file with the draft.
    consent.discard_draft_letter((conversation.answers or {}).get(event_steps.LETTER))
    _save(conversation, IDLE, {})
    conversation.failed_tries = 0


def _cancelled(session: Session, conversation: Conversation) -> list[Reply]:
    _reset(conversation)
    audit.record(
        session,
        actor=f"{conversation.channel}:{conversation.id}",
        action="conversation.draft_cancelled",
        subject_type="conversation",
        subject_id=conversation.id,
    )
    return [Reply(t("flow.cancelled", conversation.language))]


def _reprompt(
    session: Session, conversation: Conversation, message: InboundMessage | None, now: datetime
) -> list[Reply]:
    """Ask the current question again (after a command or an off-topic message)."""
    if not in_flow(conversation):
        return []
    ctx = context.build(session, conversation, now=now, message=message)
    return [engine.prompt(event_steps.flow_for(ctx), conversation.state, ctx)]


def _letter_photo(
    session: Session, conversation: Conversation, message: InboundMessage, path: str, now: datetime
) -> list[Reply]:
    """The consent-letter step answered with a photo: keep it privately, then go on."""
    ctx = context.build(session, conversation, now=now, message=message)
    stored = consent.keep_draft_letter(path, ctx.language)
    if isinstance(stored, Reply):
        return [stored, engine.prompt(event_steps.flow_for(ctx), conversation.state, ctx)]
    consent.discard_draft_letter(ctx.answers.get(event_steps.LETTER))  # an earlier photo, replaced
    result = engine.accept(event_steps.flow_for(ctx), conversation.state, stored, ctx)
    conversation.failed_tries = 0
    return _after_answer(session, conversation, ctx, result, now)


def _expire_draft(session: Session, conversation: Conversation, now: datetime) -> list[Reply]:
    """Drop a draft idle for 7 days (or already dropped by the job) and say so once."""
    stale = (
        in_flow(conversation)
        and conversation.last_activity_at is not None
        and now - conversation.last_activity_at >= DRAFT_TTL
    )
    if not stale and not pending.of(conversation).dropped:
        return []
    if stale:
        drop_draft(session, conversation)
    pending.put(conversation, replace(pending.of(conversation), dropped=False))
    return [Reply(t("flow.draft_dropped", conversation.language))]


def drop_draft(session: Session, conversation: Conversation) -> None:
    """Forget a stale draft; the runner is told on their next message."""
    _reset(conversation)
    pending.put(conversation, pending.Pending(dropped=True))
    audit.record(
        session,
        actor="system",
        action="conversation.draft_dropped",
        subject_type="conversation",
        subject_id=conversation.id,
    )


def _command(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    command: commands.Command,
    now: datetime,
) -> list[Reply]:
    language = conversation.language
    drafting = in_flow(conversation)
    _clear_await(conversation)
    if announcements.handles(session, conversation, message, command):
        return announcements.reply(session, conversation, command) + _reprompt(
            session, conversation, message, now
        )
    if groups.is_start(command.name, command.arg):  # DAFTAR GRUP / REGISTER GROUP
        return groups.start(session, conversation, message, now=now)
    if command.name == "start" and member_links.is_claim(command.arg):  # a leader's forwarded link
        return groups.claim_copy(session, conversation, command.arg or "") + _reprompt(
            session, conversation, message, now
        )
    if command.name == "start":
        return starting.start(session, conversation, message, command.arg, now=now)
    if command.name == "cancel":
        return _ask_cancel(session, conversation)
    if command.name == "code":
        return _code(session, conversation, message, command.arg, now)
    if command.name == "waitlist":
        return waitlisting.join(session, conversation, command.arg, now=now)
    if command.name == "leavewaitlist":
        return waitlisting.ask_leave(session, conversation)
    if command.name == "position":
        return waitlisting.position_replies(session, conversation) + _reprompt(
            session, conversation, message, now
        )
    if command.name == "language":
        conversation.language = commands.language_from(command.arg, language)
        replies = [Reply(t("flow.language_set", conversation.language))]
    elif command.name == "status":
        replies = status.status_replies(session, conversation, in_draft=drafting)
        waiting = waitlisting.status_lines(session, conversation)
        replies += [Reply(waiting)] if waiting else []
    elif command.name == "ticket":
        replies = status.ticket_replies(session, conversation)
    elif command.name == "help":
        replies = [Reply(t("flow.help", language, current=drafting))]
    elif command.name in privacy.COMMANDS:
        replies = privacy.replies(session, conversation, command.name, now=now)
        if command.name == "deletedata":
            return replies  # the yes/no comes first; the draft's question after it
    else:
        replies = [Reply(t("flow.menu", language))]
    return replies + _reprompt(session, conversation, message, now)


def _code(
    session: Session,
    conversation: Conversation,
    message: InboundMessage,
    arg: str | None,
    now: datetime,
) -> list[Reply]:
    """KODE ABC123 before confirming: check and keep the code, then the current question again."""
    if not in_flow(conversation):
        code = arg or "ABC123"
        return [Reply(t("pricing.code_later", conversation.language, code=code))]
    ctx = context.build(session, conversation, now=now, message=message)
    if conversation.state == pricing.KEY:  # the code step itself: the code is its answer
        return _answer(session, conversation, message, arg or "", now)
    accepted, text = pricing.apply_command(ctx, arg)
    if accepted:
        _save(conversation, conversation.state, ctx.answers)
    return [Reply(text)] + _reprompt(session, conversation, message, now)


def _reset_unclear(conversation: Conversation) -> None:
    if pending.of(conversation).unclear:
        pending.put(conversation, replace(pending.of(conversation), unclear=0))


def _clear_await(conversation: Conversation) -> None:
    current = pending.of(conversation)
    if current.kind is not None:
        # A photo waiting for the runner's pick: the command abandoned the pick.
        proofs.discard_file(current.photo)
        pending.put(conversation, current.awaiting(None, photo=None))


def _ask_cancel(session: Session, conversation: Conversation) -> list[Reply]:
    language = conversation.language
    if not in_flow(conversation):
        replies = [Reply(t("flow.nothing_to_cancel", language))]
        if intake.for_chat(session, channel=conversation.channel, chat_id=conversation.chat_id):
            replies.append(Reply(t("flow.cancel_registered_hint", language)))
        return replies
    pending.put(conversation, pending.of(conversation).awaiting(pending.CANCEL))
    choices = (
        Choice(t("flow.yes_label", language), "1"),
        Choice(t("flow.no_label", language), "2"),
    )
    return [Reply(t("flow.cancel_confirm", language), choices=choices)]


def _photo_pick(
    session: Session, conversation: Conversation, _message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    return proofs.answer_choice(session, conversation, text, now=now)


def _cancel_answer(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    _clear_await(conversation)
    value = starting.yes_no(text)
    if value is True:
        return _cancelled(session, conversation)
    if value is False:
        return [Reply(t("flow.cancel_kept", conversation.language))] + _reprompt(
            session, conversation, message, now
        )
    return None


def _restart_answer(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    _clear_await(conversation)
    value = starting.yes_no(text)
    return starting.answer_restart(session, conversation, message, value, now=now)


def _delete_answer(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    _clear_await(conversation)
    replies = privacy.answer_delete(session, conversation, starting.yes_no(text))
    return None if replies is None else replies + _reprompt(session, conversation, message, now)


def _leave_answer(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    _clear_await(conversation)
    replies = waitlisting.answer_leave(session, conversation, starting.yes_no(text), now=now)
    return None if replies is None else replies + _reprompt(session, conversation, message, now)


def _field_pick(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    _clear_await(conversation)
    if conversation.state != "confirm":
        return None
    ctx = context.build(session, conversation, now=now, message=message)
    result = engine.pick_field(event_steps.flow_for(ctx), text, ctx)
    if result is None:
        return None  # not a field: read as an answer to the summary (YA, BATAL, ubah nama…)
    _save(conversation, result.state, result.answers)
    return list(result.replies)


def _group_more(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    listed = group_list.turn(session, conversation, message, text, now)
    return (
        listed
        if listed is not None
        else groups.answer_more(session, conversation, message, text, now)
    )


def _forget(
    _session: Session,
    conversation: Conversation,
    _message: InboundMessage,
    _text: str,
    _now: datetime,
) -> None:
    _clear_await(conversation)  # a kind no handler knows (hand-edited row): wait no longer


# What a conversation may be waiting for (pending.kind), and who answers the next text message.
# A handler returns None to let the message be treated as an ordinary answer instead.
AWAITED = {
    pending.PHOTO: _photo_pick,  # several registrations await payment: which one is this photo for?
    pending.CANCEL: _cancel_answer,  # BATAL asked "really cancel?" (yes/no)
    pending.RESTART: _restart_answer,  # DAFTAR mid-draft asked "continue or start over?"
    pending.DELETE_DATA: _delete_answer,  # HAPUS DATA asked "really ask for deletion?"
    pending.FIELD: _field_pick,  # the summary's "edit" listed the answers: which one?
    pending.CHANGE: changes.answer,  # a change after registration waits for its next answer
    pending.LEAVE_WAITLIST: _leave_answer,  # KELUAR ANTREAN asked "really leave the list?"
    groups.MORE: _group_more,  # a group's runner added: another one, a filled list, or DONE?
}


def ctx_for(session: Session, conversation: Conversation, *, now: datetime) -> Ctx:
    """A Ctx for the conversation as stored (used by jobs and tests)."""
    return context.build(session, conversation, now=now)
