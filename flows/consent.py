"""The chat side of consent letters: a draft's letter photo, and a replacement after a rejection."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.errors import InvalidImage, StorageUnavailable
from core.fulfilment import consent
from core.i18n import t
from core.messages import Reply
from core.models import Conversation


def keep_draft_letter(inbound_path: str, language: str) -> str | Reply:
    """Store the photo privately and return its path, or the reply asking for a readable one."""
    try:
        return consent.store_photo(inbound_path)
    except InvalidImage:
        return Reply(t("questions.letter.invalid", language))
    except StorageUnavailable as error:  # media disk full: the draft stays, they resend later
        return Reply(t(error.key, language))


def discard_draft_letter(path: object) -> None:
    consent.discard(path)


def receive(
    session: Session, conversation: Conversation, inbound_path: str, *, now: datetime
) -> list[Reply] | None:
    """A photo from a chat whose letter was rejected is the new letter; None when none was."""
    waiting = consent.awaiting_new_letter(
        session, channel=conversation.channel, chat_id=conversation.chat_id
    )
    if not waiting:
        return None
    registration = waiting[0]
    key = consent.receive_new_letter(
        session, registration=registration, inbound_path=inbound_path, now=now
    )
    return [Reply(t(key, conversation.language, number=registration.number))]
