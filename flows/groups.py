"""Group registration in the chat: DAFTAR GRUP / REGISTER GROUP, one runner after another, one payment.

The leader answers the ordinary registration flow once per runner. The draft carries a marker
(``MARK`` in the conversation's answers) saying it belongs to a group; when a runner's draft is
submitted, ``after_submit`` makes the registration a member of the group (instead of giving it its
own amount) and asks "another runner for this group?". SELESAI / DONE closes the group: one
combined amount with one unique code (core.payments.group_payment), and one screenshot later pays
for everyone. A runner refused at submit (sold out, duplicate) is refused before the amount exists:
the leader hears it while the other runners are kept.

A club leader may instead paste several filled forms in one message (flows/group_list.py): the
runners whose form is complete join at once, the others wait in the marker's ``queue`` and are
opened one after another (``next_queued``) with only their gaps to answer. A member's own ticket
on Telegram comes from the start link in the leader's paid message (``claim_copy``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.i18n import t, words
from core.messages import Attachment, Choice, InboundMessage, Reply
from core.models import Conversation, Registration, RegistrationGroup
from core.payments import group_payment
from core.registration import groups, member_links
from flows import context, form, parsers, pending, starting
from flows.registration import REGISTRATION

MARK = "_group"  # in conversation.answers: {"id": the group's id, None before the first runner}
MORE = "group_more"  # pending kind: "another runner, or done?"


def is_start(name: str, arg: str | None) -> bool:
    """DAFTAR GRUP / REGISTER GROUP: the start command with a group word."""
    return name == "start" and parsers.norm(arg or "") in words("words.group.start")


def mark(conversation: Conversation) -> dict[str, Any] | None:
    value = (conversation.answers or {}).get(MARK)
    return dict(value) if isinstance(value, dict) else None


def set_mark(conversation: Conversation, value: dict[str, Any]) -> None:
    conversation.answers = {**(conversation.answers or {}), MARK: value}


def start(
    session: Session, conversation: Conversation, message: InboundMessage, *, now: datetime
) -> list[Reply]:
    """Begin a group: the first runner's draft, marked as a group's."""
    replies = starting.start(session, conversation, message, None, now=now)
    if pending.of(conversation).kind == pending.RESTART:
        return replies  # a draft in progress: continue or start over first (no group yet)
    set_mark(conversation, {"id": None})
    return [Reply(t("group.started", conversation.language)), *replies]


def _latest(session: Session, conversation: Conversation) -> Registration | None:
    return session.scalars(
        select(Registration)
        .where(Registration.channel == conversation.channel,
               Registration.chat_id == conversation.chat_id)
        .order_by(Registration.id.desc())
        .limit(1)
    ).one_or_none()  # fmt: skip


def after_submit(
    session: Session,
    conversation: Conversation,
    marker: dict[str, Any],
    replies: list[Reply],
    *,
    now: datetime,
) -> list[Reply]:
    """A group draft was answered to the end: join the new registration to the group, ask for more.

    Not submitted (sold out, duplicate, price changed): the marker stays with the draft and the
    refusal's replies go out as they are.
    """
    registration = _latest(session, conversation)
    submitted = conversation.state == "idle" and registration is not None
    if not submitted or registration.group_id is not None:
        set_mark(conversation, marker)
        return replies
    set_mark(conversation, marker)
    group = join(session, conversation, registration)
    count = len(groups.members(session, group))
    language = conversation.language
    added = Reply(t("group.added", language, count=count, name=registration.participant.full_name,
                    category=registration.category.code, number=registration.number))  # fmt: skip
    if (mark(conversation) or {}).get("queue"):  # the next runner of the leader's list
        return [added, *next_queued(session, conversation, None, now=now)]
    pending.put(conversation, pending.of(conversation).awaiting(MORE))
    return [added, ask_more(language)]


def join(
    session: Session, conversation: Conversation, registration: Registration
) -> RegistrationGroup:
    """The runner is the group's (opened with its first runner): no amount of its own."""
    marker = mark(conversation) or {}
    group = session.get(RegistrationGroup, marker["id"]) if marker.get("id") else None
    if group is None:
        group = groups.start(session, event_id=registration.event_id, channel=conversation.channel,
                             chat_id=conversation.chat_id, leader_name=conversation.sender_name or "",
                             language=conversation.language)  # fmt: skip
    set_mark(conversation, {**marker, "id": group.id})
    registration.group_id = group.id
    if registration.amount_key is not None or registration.unique_code:
        registration.amount_key, registration.unique_code = None, 0
        registration.amount_due = registration.price
    return group


def next_queued(
    session: Session, conversation: Conversation, message: InboundMessage | None, *, now: datetime
) -> list[Reply]:
    """Open the draft of the list's next runner with a gap: only the gaps are asked, then its summary."""
    marker = mark(conversation) or {}
    queue = list(marker.get("queue") or [])
    if not queue:
        return []
    lines = queue.pop(0)
    base = {"event": marker["event"]} if marker.get("event") else {}
    ctx = context.build(session, conversation, now=now, message=message, answers=base)
    conversation.state, replies = form.apply(REGISTRATION, lines, ctx, head=False)
    conversation.answers = dict(ctx.answers)
    conversation.failed_tries, conversation.started_at = 0, now
    set_mark(conversation, {**marker, "queue": queue})
    name = ctx.answers.get("full_name") or lines.get("full_name") or "?"
    return [Reply(t("group.list_next", conversation.language, name=name)), *replies]


def ask_more(language: str) -> Reply:
    choices = (Choice(t("flow.yes_label", language), "1"), Choice("SELESAI" if language == "id"
               else "DONE", "2"))  # fmt: skip
    return Reply(t("group.another", language), choices=choices)


def answer_more(
    session: Session, conversation: Conversation, message: InboundMessage, text: str, now: datetime
) -> list[Reply] | None:
    """YA: the next runner's draft. SELESAI / DONE / TIDAK: the group's one amount. Else None."""
    marker = mark(conversation) or {}
    pending.put(conversation, pending.of(conversation).awaiting(None))
    value = parsers.norm(parsers.unnumbered(text))
    if value in words("words.group.done") or starting.yes_no(text) is False:
        return close(session, conversation, marker, now=now)
    if starting.yes_no(text) is True:
        replies = starting.fresh_start(session, conversation, message, None, now=now)
        set_mark(conversation, marker)
        return replies
    pending.put(conversation, pending.of(conversation).awaiting(MORE))
    return [ask_more(conversation.language)]


def close(
    session: Session, conversation: Conversation, marker: dict[str, Any], *, now: datetime
) -> list[Reply]:
    """The group's combined amount with one unique code, and the transfer instructions."""
    conversation.answers = {k: v for k, v in (conversation.answers or {}).items() if k != MARK}
    group = session.get(RegistrationGroup, marker["id"]) if marker.get("id") else None
    if group is None or not groups.awaiting(session, group):
        return [Reply(t("group.empty", conversation.language))]
    group_payment.assign_group_amount(session, group=group, now=now)
    return group_payment.instructions(session, group=group, language=conversation.language)


def receive_photo(
    session: Session, conversation: Conversation, photo: Attachment, *, now: datetime
) -> list[Reply] | None:
    """A screenshot in a chat whose group awaits its one payment: it pays for the whole group.

    None when the chat has no such group (the photo is then an ordinary proof)."""
    group = groups.open_for_chat(
        session, channel=conversation.channel, chat_id=conversation.chat_id
    )
    if group is None or group.amount_due <= 0:
        return None
    result = group_payment.receive_group_photo(session, group=group,
                                               stored_path=photo.stored_path or "",
                                               provider_file_id=photo.unique_ref, now=now)  # fmt: skip
    return result.replies


def claim_copy(session: Session, conversation: Conversation, payload: str) -> list[Reply]:
    """A member opened the start link their leader forwarded: their own e-ticket, in their chat."""
    language = conversation.language
    found = member_links.claim(session, payload=payload, chat_id=conversation.chat_id)
    registration = found.registration
    if registration is None:
        return [Reply(t(found.problem or "group.member_link_invalid", language))]
    ticket = member_links.ticket_reply(session, registration, language)
    if ticket is None:
        return [Reply(t("group.member_link_invalid", language))]
    hello = t("group.member_copy", language, name=registration.participant.full_name,
              event=registration.event.name)  # fmt: skip
    return [Reply(hello), ticket]
