"""STATUS and TIKET: the chat's registrations with status, amount due, deadline, BIB and e-tickets."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.enums import RegistrationStatus
from core.fulfilment import tickets
from core.i18n import t
from core.messages import Reply
from core.models import Conversation, Registration
from core.payments.state import outstanding
from core.registration import intake

UNPAID = {
    RegistrationStatus.PENDING_PAYMENT.value,
    RegistrationStatus.PARTIALLY_PAID.value,
    RegistrationStatus.REJECTED.value,
}


def status_replies(session: Session, conversation: Conversation, *, in_draft: bool) -> list[Reply]:
    """List every registration of this chat with what is still owed (never the ticket images).

    Images cost a message each (Fonnte sends about 1 a second); TIKET sends them on request.
    """
    language = conversation.language
    rows = intake.for_chat(session, channel=conversation.channel, chat_id=conversation.chat_id)
    if not rows:
        # During a draft, "no registration yet, type DAFTAR" would contradict the draft in progress.
        text = t("flow.status.none_draft" if in_draft else "flow.status.none", language)
    else:
        items = [_block(n, b, language) for n, b in enumerate(_blocks(rows), start=1)]
        text = t("flow.status.header", language) + "\n\n" + "\n\n".join(items)
        if any(r.status == RegistrationStatus.PAID.value for r in rows):
            text += "\n\n" + t("flow.status.ticket_hint", language)
        if in_draft:
            text += "\n\n" + t("flow.status.draft", language)
    return [Reply(text)]


def ticket_replies(session: Session, conversation: Conversation) -> list[Reply]:
    """Re-send the e-ticket of every paid registration of this chat."""
    rows = intake.for_chat(session, channel=conversation.channel, chat_id=conversation.chat_id)
    replies = _tickets(session, rows, conversation.language)
    return replies or [Reply(t("flow.ticket_none", conversation.language))]


def _tickets(session: Session, rows: list[Registration], language: str) -> list[Reply]:
    replies = []
    for registration in rows:
        if registration.status == RegistrationStatus.PAID.value:
            reply = tickets.ticket_reply(
                session, registration=registration, language=language, resend=True
            )
            if reply is not None:
                replies.append(reply)
    return replies


def _blocks(rows: list[Registration]) -> list[list[Registration]]:
    """One block per single registration, one per group (DAFTAR GRUP) at its first member."""
    blocks: list[list[Registration]] = []
    by_group: dict[int, list[Registration]] = {}
    for registration in rows:
        if registration.group_id is None:
            blocks.append([registration])
        elif registration.group_id in by_group:
            by_group[registration.group_id].append(registration)
        else:
            by_group[registration.group_id] = [registration]
            blocks.append(by_group[registration.group_id])
    return blocks


def _block(n: int, block: list[Registration], language: str) -> str:
    if block[0].group_id is None:
        return _item(n, block[0], language)
    return _group_item(n, block, language)


def _group_item(n: int, members: list[Registration], language: str) -> str:
    """A group is paid with one transfer: one amount and deadline for it, not a share per runner.

    The first member carries the group's unique code, so a per-runner amount would mislead.
    """
    unpaid = [r for r in members if r.status in UNPAID]
    deadlines = [r.payment_deadline for r in unpaid if r.payment_deadline]
    return t(
        "flow.status.group",
        language,
        n=n,
        members=[
            {
                "number": r.number,
                "category": r.category.code,
                "name": r.participant.full_name,
                "status": t(f"flow.status.{r.status}", language),
                "bib": r.bib,
            }
            for r in members
        ],  # fmt: skip
        owed=sum(outstanding(r) for r in unpaid),
        partly=any(r.status == RegistrationStatus.PARTIALLY_PAID.value for r in unpaid),
        deadline=min(deadlines) if deadlines else None,
        tz=members[0].event.timezone,
    )


def _item(n: int, registration: Registration, language: str) -> str:
    unpaid = registration.status in UNPAID
    return t(
        "flow.status.item",
        language,
        n=n,
        number=registration.number,
        category=registration.category.code,
        name=registration.participant.full_name,
        status=t(f"flow.status.{registration.status}", language),
        amount_due=outstanding(registration) if unpaid else None,
        partly=registration.status == RegistrationStatus.PARTIALLY_PAID.value,
        deadline=registration.payment_deadline if unpaid else None,
        bib=registration.bib,
        tz=registration.event.timezone,
    )
