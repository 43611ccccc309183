"""Group registration in the chat: DAFTAR GRUP / REGISTER GROUP, one runner after another, one payment.

The leader answers the ordinary registration flow once per runner. The draft carries a marker
(``MARK`` in the conversation's answers) saying it belongs to a group; when a runner's draft is
submitted, ``after_submit`` makes the registration a member of the group (instead of giving it its
own amount) and asks "another runner for this group?". SELESAI / DONE closes the group: one
combined amount with one unique code (core.payments.group_payment), and one screenshot later pays
for everyone. A runner refused at submit (sold out, duplicate) is refused before the amount exists:
the leader hears it while the other runners are kept.
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
from core.registration import groups
from flows import parsers, pending, starting

MARK = "_group"  # in conversation.answers: {"id": the group's id, None before the first runner}
MORE = "group_more"  # pending kind: "another runner, or done?"


def is_start(name: str, arg: str | None) -> bool:
    """DAFTAR GRUP / REGISTER GROUP: the start command with a group word."""
    return name == "start" and parsers.norm(arg or "") in words("words.group.start")


def mark(conversation: Conversation) -> dict[str, Any] | None:
    value = (conversation.answers or {}).get(MARK)
    return dict(value) if isinstance(value, dict) else None


def _set_mark(conversation: Conversation, value: dict[str, Any]) -> None:
    conversation.answers = {**(conversation.answers or {}), MARK: value}


def start(
    session: Session, conversation: Conversation, message: InboundMessage, *, now: datetime
) -> list[Reply]:
    """Begin a group: the first runner's draft, marked as a group's."""
    replies = starting.start(session, conversation, message, None, now=now)
    if pending.of(conversation).kind == pending.RESTART:
        return replies  # a draft in progress: continue or start over first (no group yet)
    _set_mark(conversation, {"id": None})
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
) -> list[Reply]:
    """A group draft was answered to the end: join the new registration to the group, ask for more.

    Not submitted (sold out, duplicate, price changed): the marker stays with the draft and the
    refusal's replies go out as they are.
    """
    registration = _latest(session, conversation)
    submitted = conversation.state == "idle" and registration is not None
    if not submitted or registration.group_id is not None:
        _set_mark(conversation, marker)
        return replies
    group = session.get(RegistrationGroup, marker["id"]) if marker.get("id") else None
    if group is None:
        group = groups.start(session, event_id=registration.event_id, channel=conversation.channel,
                             chat_id=conversation.chat_id, leader_name=conversation.sender_name or "",
                             language=conversation.language)  # fmt: skip
    _join(registration, group)
    count = len(groups.members(session, group))
    _set_mark(conversation, {"id": group.id})
    pending.put(conversation, pending.of(conversation).awaiting(MORE))
    language = conversation.language
    added = t("group.added", language, count=count, name=registration.participant.full_name,
              category=registration.category.code, number=registration.number)  # fmt: skip
    return [Reply(added), _ask_more(language)]


def _join(registration: Registration, group: RegistrationGroup) -> None:
    """The runner is the group's: no amount of its own (the group's one code comes at the end)."""
    registration.group_id = group.id
    if registration.amount_key is not None or registration.unique_code:
        registration.amount_key, registration.unique_code = None, 0
        registration.amount_due = registration.price


def _ask_more(language: str) -> Reply:
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
        _set_mark(conversation, marker)
        return replies
    pending.put(conversation, pending.of(conversation).awaiting(MORE))
    return [_ask_more(conversation.language)]


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
