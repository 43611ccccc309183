"""Photos in the chat: payment proof when the chat has a registration awaiting payment.

With several such registrations the runner is asked which one (numbered, or all of them for one
transfer); the stored photo path waits in the conversation's answers until they reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.i18n import t, words
from core.messages import Attachment, InboundMessage, Reply
from core.models import Conversation, Registration
from core.payments import amounts, photos
from flows import parsers, pending

MAX_ASKS = 3  # answers that are not a pick before the waiting photo is set aside


def first_photo(message: InboundMessage) -> Attachment | None:
    """The first attachment the channel layer stored (refused downloads were already answered)."""
    return next((a for a in message.attachments if a.stored_path and not a.error), None)


def payable(session: Session, conversation: Conversation) -> list[Registration]:
    """This chat's registrations that may take a proof photo, oldest first."""
    return amounts.awaiting_payment(
        session, channel=conversation.channel, chat_id=conversation.chat_id
    )


def receive(
    session: Session, conversation: Conversation, photo: Attachment, *, now: datetime
) -> list[Reply] | None:
    """Route a photo to payment proof; None when nothing in this chat awaits payment."""
    candidates = payable(session, conversation)
    if not candidates:
        return None
    if len(candidates) == 1:
        return _attach(session, candidates, photo.stored_path or "", photo.unique_ref, now)
    current = pending.of(conversation)
    discard_file(current.photo)  # a newer photo replaces the one still waiting
    waiting = {
        "path": photo.stored_path,
        "file_id": photo.unique_ref,
        "ids": [r.id for r in candidates],
    }
    pending.put(conversation, current.awaiting(pending.PHOTO, photo=waiting))
    return [amounts.choose_registration_reply(candidates, conversation.language)]


def answer_choice(
    session: Session, conversation: Conversation, text: str, *, now: datetime
) -> list[Reply] | None:
    """Apply the runner's pick for a waiting photo.

    Anything else keeps the photo waiting and asks again with an example, up to ``MAX_ASKS``
    times; then the photo is set aside (its file deleted) and the runner told to send it again.
    None when no photo is waiting any more (the text is then an ordinary message).
    """
    current = pending.of(conversation)
    waiting: dict[str, Any] = current.photo or {}
    pending.put(conversation, current.awaiting(None, photo=None))
    candidates = [r for r in payable(session, conversation) if r.id in waiting.get("ids", [])]
    if not waiting.get("path") or not candidates:
        discard_file(waiting)  # nothing awaits payment any more: the photo has no home
        return None
    chosen = _pick(text, candidates)
    if chosen is not None:
        return _attach(session, chosen, waiting["path"], waiting.get("file_id"), now)
    asks = int(waiting.get("asks", 0)) + 1
    language = conversation.language
    if asks >= MAX_ASKS:
        discard_file(waiting)
        return [Reply(t("payment.choose_dropped", language))]
    again_waiting = {**waiting, "asks": asks}
    pending.put(conversation, current.awaiting(pending.PHOTO, photo=again_waiting))
    again = Reply(t("payment.choose_again", language, last=len(candidates) + 1))
    return [again, amounts.choose_registration_reply(candidates, language)]


def discard_file(waiting: Any) -> None:
    """Delete a waiting photo's downloaded file (it is never attached now)."""
    if isinstance(waiting, dict) and waiting.get("path"):
        photos.discard_inbound_file(str(waiting["path"]))


def _pick(text: str, candidates: list[Registration]) -> list[Registration] | None:
    value = parsers.norm(text)
    if value in words("words.all") or value == str(len(candidates) + 1):
        return candidates or None
    if value.isdecimal() and 1 <= int(value) <= len(candidates):
        return [candidates[int(value) - 1]]
    by_id_or_number = [r for r in candidates if value in (str(r.id), r.number.lower())]
    return by_id_or_number or None


def _attach(
    session: Session,
    registrations: list[Registration],
    path: str,
    file_id: str | None,
    now: datetime,
) -> list[Reply]:
    if len(registrations) == 1:
        result = photos.receive_photo(
            session,
            registration=registrations[0],
            stored_path=path,
            provider_file_id=file_id,
            now=now,
        )
    else:
        result = photos.receive_photo_group(
            session,
            registrations=registrations,
            stored_path=path,
            provider_file_id=file_id,
            now=now,
        )
    return list(result.replies)


def guidance(conversation: Conversation, *, in_flow: bool) -> Reply:
    """What to say about a photo nobody asked for."""
    key = "flow.photo_in_flow" if in_flow else "flow.photo_no_registration"
    return Reply(t(key, conversation.language))
