"""Replies to text while a registration waits for payment (C9): say what is owed, vary the wording.

Not the same canned line every time: the first unclear message gets the amount, the account, the
deadline and how to send the proof; the next ones a short reminder of the amount (every fifth the
whole again); "berapa totalnya?" / "how much" is answered with the amount, "sudah transfer" with
how to send the proof.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from core.i18n import t, words
from core.messages import Reply
from core.models import Conversation, Registration
from core.payments.amounts import active_accounts
from core.payments.state import deadline_text, outstanding
from flows import parsers, pending

FULL_EVERY = 5  # after this many short reminders, the whole again


def _mentions(text: str, key: str) -> bool:
    value = f" {parsers.norm(text)} "
    return any(f" {word} " in value for word in words(key))


def _details(session: Session, rows: list[Registration], language: str) -> dict:
    first = rows[0]
    accounts = [
        {"bank_name": a.bank_name, "account_number": a.account_number, "holder_name": a.holder_name}
        for a in active_accounts(session, event_id=first.event_id)
        if a.account_number
    ]
    return {
        "items": [{"number": r.number, "amount": outstanding(r)} for r in rows],
        "total": sum(outstanding(r) for r in rows),
        "accounts": accounts,
        "deadline": deadline_text(first, language=language),
    }


def reply(
    session: Session, conversation: Conversation, text: str, rows: list[Registration]
) -> Reply:
    """The answer to ``text`` from a chat whose registrations ``rows`` await payment."""
    language = conversation.language
    details = _details(session, rows, language)
    if _mentions(text, "words.waiting.amount"):
        return Reply(t("waiting.amount", language, **details))
    if _mentions(text, "words.waiting.paid"):
        return Reply(t("waiting.paid", language, **details))
    current = pending.of(conversation)
    count = current.unclear + 1
    pending.put(conversation, replace(current, unclear=count))
    key = "waiting.full" if count % FULL_EVERY == 1 else "waiting.short"
    return Reply(t(key, language, **details))
