"""A group's one payment: the combined amount with one unique code, one photo, one approval.

Part of the payments area (above core.registration, whose ``groups`` module keeps the members).
The combined amount is every awaiting member's price plus ONE code. The first member carries the
code in its own ``amount_due``, so the photo-group total (the sum of what each member owes) equals
the combined amount, and the admin queue's group-photo handling (one item, shares in turn) and
statement matching of photo groups work unchanged. The group's ``amount_key`` keeps the total
unique against single registrations and other groups (amounts.free_code, same per-event lock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from core import audit
from core.db import advisory_xact_lock
from core.enums import UniqueCodeMode
from core.errors import Conflict, InvalidSetting
from core.i18n import t
from core.messages import Reply
from core.models import AdminUser, OutboundMessage, Payment, Registration, RegistrationGroup
from core.payments import amounts, group_notice, photos, rejection, verification
from core.payments.state import deadline_text, lock_open_payment, outstanding
from core.registration import groups


def assign_group_amount(session: Session, *, group: RegistrationGroup, now: datetime) -> int:
    """Set the combined amount (sum of prices + one code) and every member's deadline.

    Idempotent once the group has a key. Raises InvalidSetting when no member awaits payment.
    """
    members = groups.awaiting(session, group)
    if not members:
        raise InvalidSetting("the group has no runner awaiting payment")
    if group.amount_key is not None:
        return group.amount_due
    total = sum(r.price for r in members)
    mode = UniqueCodeMode(members[0].event.unique_code_mode)
    code, sign = 0, 1 if mode is UniqueCodeMode.ADD else -1
    if mode is not UniqueCodeMode.OFF:
        advisory_xact_lock(session, amounts._AMOUNT_LOCK_BASE + group.event_id)
        code = amounts.free_code(
            session, event_id=group.event_id, price=total, mode=mode,
            skip=(0, group.id), most=members[0].price,
        )  # fmt: skip
    for n, member in enumerate(members):
        member.unique_code = code if n == 0 else 0
        member.amount_due = member.price + (sign * code if n == 0 else 0)
        member.amount_key = None  # the group's key guards the total
        amounts._set_deadline(member, now)
    group.unique_code, group.amount_due = code, total + sign * code
    group.amount_key = group.amount_due if mode is not UniqueCodeMode.OFF else None
    session.flush()
    audit.record(session, actor=f"{group.channel}:-", action="group.amount_assigned",
                 subject_type="registration_group", subject_id=group.id,
                 members=[r.id for r in members], amount=group.amount_due)  # fmt: skip
    return group.amount_due


def instructions(session: Session, *, group: RegistrationGroup, language: str) -> list[Reply]:
    """The transfer instructions for the whole group: one amount, one deadline, each runner listed."""
    members = groups.awaiting(session, group)
    accounts = amounts.active_accounts(session, event_id=group.event_id)
    if not accounts:
        return [Reply(text=t("payment.no_accounts", language))]
    banks = [a for a in accounts if a.account_number or not a.qris_image_path]
    text = t(
        "group.instructions", language, amount=group.amount_due, code=group.unique_code,
        count=len(members), deadline=deadline_text(members[0], language=language),
        items=[{"number": r.number, "name": r.participant.full_name, "category": r.category.code,
                "price": r.price} for r in members],
        accounts=[{"bank_name": a.bank_name, "account_number": a.account_number,
                   "holder_name": a.holder_name} for a in banks],
    )  # fmt: skip
    return [Reply(text=text, kind="payment")]


def receive_group_photo(
    session: Session,
    *,
    group: RegistrationGroup,
    stored_path: str,
    provider_file_id: str | None,
    now: datetime,
) -> photos.PhotoResult:
    """One screenshot for the whole group: attached to every member still owing (one queue item)."""
    members = [r for r in groups.awaiting(session, group) if outstanding(r) > 0]
    if not members:
        photos.discard_inbound_file(stored_path)
        return photos.PhotoResult(
            ok=False, replies=[Reply(t("group.nothing_owed", group.language))]
        )
    return photos.receive_photo_group(session, registrations=members, stored_path=stored_path,
                                      provider_file_id=provider_file_id, now=now)  # fmt: skip


@dataclass(slots=True)
class GroupOutcome:
    """Per-member approvals or rejections of one group payment (the caller sends their rows)."""

    approvals: list[verification.Approval] = field(default_factory=list)
    rejections: list[rejection.Rejection] = field(default_factory=list)
    notice: list[OutboundMessage] = field(default_factory=list)  # the leader's one message

    @property
    def paid(self) -> list[int]:
        return [a.registration_id for a in self.approvals if a.paid]


def approve_group(
    session: Session,
    *,
    group: RegistrationGroup,
    actor: AdminUser,
    now: datetime,
    amount_received: int | None = None,
) -> GroupOutcome:
    """Approve the group's open payments: each member paid in turn from ``amount_received``.

    None means the full amount. Less pays members in order (lowest id first); the one the money
    runs out on is part-paid, the rest stay waiting (the leader is told what is still owed).
    The leader gets one message with every member's BIB (core.payments.group_notice), not one
    "payment verified" per member.
    """
    outcome, left = GroupOutcome(), amount_received
    for member in _owing(session, group):
        payment = lock_open_payment(session, member.id)
        if payment is None or (left is not None and left <= 0):
            continue
        share = None if left is None else min(left, outstanding(member))
        outcome.approvals.append(
            verification.approve(
                session,
                payment_id=payment.id,
                actor=actor,
                amount_received=share,
                now=now,
                notice=False,
            )  # fmt: skip
        )
        if left is not None:
            left -= share or 0
    outcome.notice = group_notice.paid_notice(session, group=group, approvals=outcome.approvals)
    return outcome


def reject_group(
    session: Session,
    *,
    group: RegistrationGroup,
    actor: AdminUser,
    reason: str,
    now: datetime,
    note: str = "",
) -> GroupOutcome:
    """Reject the group's open payments together: one screenshot, one verdict for all.

    Each member is rejected as a single payment would be (status, longer deadline, audit), but
    without its own message: the leader gets one naming every runner (group_notice).
    """
    outcome = GroupOutcome()
    for member in _owing(session, group):
        payment = lock_open_payment(session, member.id)
        if payment is None:
            continue
        try:
            outcome.rejections.append(rejection.reject(
                session, payment_id=payment.id, actor=actor, reason=reason, now=now, note=note,
                notice=False))  # fmt: skip
        except Conflict:
            continue  # approved meanwhile: that member stays paid
    outcome.notice = group_notice.rejected_notice(
        session, group=group, rejections=outcome.rejections, reason=reason, note=note
    )
    return outcome


def group_of_photo(session: Session, payment: Payment) -> RegistrationGroup | None:
    """The registration group (DAFTAR GRUP) whose one photo this payment is, if it is one."""
    if len((payment.flags or {}).get("group") or []) < 2:
        return None
    return groups.for_registration(session, payment.registration)


def _owing(session: Session, group: RegistrationGroup) -> list[Registration]:
    return [r for r in groups.awaiting(session, group) if outstanding(r) > 0]
