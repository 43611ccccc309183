"""PRIVASI / PRIVACY, DATAKU / MYDATA and HAPUS DATA / DELETE MY DATA in the chat.

The runner reads the notice of the events they registered for (else of the open ones), gets what
we hold about them in their chat and language, or asks for deletion, confirmed with YA; an admin
honours the request (core.privacy.requests).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.events import catalog
from core.i18n import t
from core.messages import Choice, Reply
from core.models import Conversation, Registration
from core.privacy import notice, requests
from flows import pending

COMMANDS = ("privacy", "mydata", "deletedata")


def replies(
    session: Session, conversation: Conversation, name: str, *, now: datetime
) -> list[Reply]:
    """The answer to one of ``COMMANDS``."""
    if name == "privacy":
        return [Reply(text) for text in _notices(session, conversation, now)]
    if name == "mydata":
        text = notice.held_data(session, channel=conversation.channel,
                                chat_id=conversation.chat_id, phone=conversation.phone,
                                language=conversation.language)  # fmt: skip
        return [Reply(text)]
    return _ask_delete(conversation)


def _notices(session: Session, conversation: Conversation, now: datetime) -> list[str]:
    event_ids = list(session.scalars(
        select(Registration.event_id).distinct().where(
            Registration.channel == conversation.channel,
            Registration.chat_id == conversation.chat_id,
        )
    ))  # fmt: skip
    if not event_ids:
        event_ids = [e.id for e in catalog.snapshot(session, now=now).open]
    texts = notice.for_events(session, event_ids, conversation.language)
    return texts or [t("privacy.no_events", conversation.language)]


def _ask_delete(conversation: Conversation) -> list[Reply]:
    language = conversation.language
    pending.put(conversation, pending.of(conversation).awaiting(pending.DELETE_DATA))
    choices = (
        Choice(t("flow.yes_label", language), "1"),
        Choice(t("flow.no_label", language), "2"),
    )
    return [Reply(t("privacy.delete_confirm", language), choices=choices)]


def answer_delete(
    session: Session, conversation: Conversation, value: bool | None
) -> list[Reply] | None:
    """YA: the request is stored for an admin; TIDAK: nothing happens; else not an answer."""
    language = conversation.language
    if value is None:
        return None
    if value is False:
        return [Reply(t("privacy.delete_kept", language))]
    _request, created = requests.open_request(session, conversation)
    return [Reply(t("privacy.delete_requested" if created else "privacy.delete_already", language))]
