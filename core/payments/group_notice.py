"""The leader's one message when a group payment is approved (every member with their BIB) or
rejected (the runners, the reason, the amount to resend).

The group's approvals (admin queue, bank statement) are made with ``notice=False``, so no member
gets its own "payment verified"; this one message goes to the leader's chat instead, written in
the same transaction, before the tickets (their rows are written later by the ticket worker, at
the same priority, so the outbox sends this first). A Telegram group whose event sends members
their copies also gets each member's start link here (core.registration.member_links).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from core.enums import AWAITING_STATUSES, RegistrationStatus, values
from core.i18n import t
from core.messages import Reply
from core.messaging import outbox
from core.messaging.notify import chat_language
from core.models import OutboundMessage, Registration, RegistrationGroup
from core.payments.rejection import Rejection, reject_reason_text
from core.payments.state import deadline_text, outstanding
from core.payments.verification import Approval
from core.registration import groups, member_links


def paid_notice(
    session: Session, *, group: RegistrationGroup, approvals: Sequence[Approval]
) -> list[OutboundMessage]:
    """One message to the leader for the approvals just made (none when nothing changed)."""
    changed = [a for a in approvals if a.changed]
    if not changed:
        return []
    members = groups.members(session, group)
    language = chat_language(session, members[0]) if members else group.language
    text = t("group.paid", language, **_params(members))
    links = _links(members, {a.registration_id for a in changed if a.paid})
    if links:
        text += "\n\n" + t("group.member_links", language, links=links)
    key = "-".join(str(a.payment_id) for a in changed)
    row = outbox.write(
        session, channel=group.channel, recipient=group.chat_id,
        reply=Reply(text=text, kind="payment"), idempotency_key=f"group:{group.id}:paid:{key}",
        priority=outbox.PRIORITY_NOTIFICATION,
        conversation_id=members[0].conversation_id if members else None,
        registration_id=changed[0].registration_id,
    )  # fmt: skip
    return [row]


def rejected_notice(
    session: Session,
    *,
    group: RegistrationGroup,
    rejections: Sequence[Rejection],
    reason: str,
    note: str = "",
) -> list[OutboundMessage]:
    """One message to the leader for the whole group's rejected photo (none when nothing changed)."""
    changed = [r for r in rejections if r.changed]
    if not changed:
        return []
    ids = {r.registration_id for r in changed}
    rejected = [r for r in groups.members(session, group) if r.id in ids]
    language = chat_language(session, rejected[0])
    # A part-paid member never expires: the deadline is claimed only when every one can expire.
    part_paid = any(r.status == RegistrationStatus.PARTIALLY_PAID.value for r in rejected)
    text = t(
        "group.rejected", language, reason=reject_reason_text(reason, language, note),
        members=[{"name": r.participant.full_name, "category": r.category.code,
                  "number": r.number} for r in rejected],
        amount=sum(outstanding(r) for r in rejected),
        deadline="" if part_paid else deadline_text(rejected[0], language=language),
    )  # fmt: skip
    key = "-".join(str(r.payment_id) for r in changed)
    row = outbox.write(
        session, channel=group.channel, recipient=group.chat_id,
        reply=Reply(text=text, kind="payment"), idempotency_key=f"group:{group.id}:rejected:{key}",
        priority=outbox.PRIORITY_NOTIFICATION, conversation_id=rejected[0].conversation_id,
        registration_id=rejected[0].id,
    )  # fmt: skip
    return [row]


def _params(members: list[Registration]) -> dict[str, object]:
    """Paid members with their BIB, then those still owing (the money ran out on them)."""
    paid = RegistrationStatus.PAID.value
    shown = [r for r in members if r.status == paid or r.status in values(AWAITING_STATUSES)]
    rows = [
        {"name": r.participant.full_name, "category": r.category.code, "number": r.number,
         "bib": r.bib if r.status == paid else None, "owed": 0 if r.status == paid else outstanding(r)}
        for r in shown
    ]  # fmt: skip
    return {
        "amount": sum(r.amount_received or 0 for r in shown),
        "count": sum(1 for r in shown if r.status == paid),
        "members": rows,
        "owed": sum(int(row["owed"] or 0) for row in rows),
    }


def _links(members: list[Registration], paid_now: set[int]) -> list[dict[str, str]]:
    found = []
    for registration in members:
        if registration.id in paid_now and member_links.offered(registration):
            url = member_links.link(registration)
            if url:
                found.append({"name": registration.participant.full_name, "url": url})
    return found
