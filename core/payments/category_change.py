"""A category change after registration, with the price difference settled.

It lives in payments (above registration) because it gives the registration a new amount with a new
unique code; the move itself and the rules (cut-off, freeze) are core/registration's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core import audit
from core.enums import RegistrationStatus
from core.errors import Conflict
from core.events import pricing
from core.i18n import t
from core.messages import Reply
from core.models import Registration
from core.payments import amounts
from core.payments.state import deadline_text
from core.registration import manage, refunds, stock
from core.registration.changes import PAID, Who, check


@dataclass(frozen=True)
class Repriced:
    """A category change's money: ``to_pay`` still owed (with a new unique code) or ``refund``."""

    old_price: int
    new_price: int
    to_pay: int = 0
    refund: int = 0


def change_category(
    session: Session, *, registration_id: int, category_id: int, who: Who, now: datetime
) -> Repriced:
    """Move to another category at its current tier price; settle the difference.

    Unpaid: the new amount gets a new unique code. Paid and dearer: the registration owes the
    difference (part-paid, new unique code) and its ticket waits for it. Paid and cheaper: the
    refund owed is noted for the organiser.
    """
    reg = stock.lock_registration(session, registration_id)
    check(session, reg, who, now, data=True)
    if reg.status == RegistrationStatus.AWAITING_VERIFICATION.value:
        raise Conflict("payment being verified", key="changes.awaiting_check")
    if reg.category_id == category_id:
        return Repriced(reg.price, reg.price)
    manage.move_category(session, registration_id=reg.id, category_id=category_id, actor=who.actor)
    return _reprice(session, reg, who, now)


def _reprice(session: Session, reg: Registration, who: Who, now: datetime) -> Repriced:
    quote = pricing.locked_quote(session, category=reg.category, now=now)  # row locked by the move
    old_price, new_price = reg.price, max(quote.price - (reg.discount or 0), 0)
    reg.price, reg.price_tier_id = new_price, quote.tier.id if quote.tier else None
    diff = new_price - old_price
    result = Repriced(old_price, new_price)
    if reg.status == PAID and diff < 0:
        refunds.owe(session, reg, amount=-diff, reason="downgrade", actor=who.actor)
        result = Repriced(old_price, new_price, refund=-diff)
    elif reg.status != PAID or diff > 0:
        if reg.status == PAID:
            # Marked paid by hand (nothing recorded as received): the old price counts as paid.
            if reg.amount_received is None:
                reg.amount_received = old_price
            reg.status = RegistrationStatus.PARTIALLY_PAID.value
            reg.payment_deadline = reg.expires_at = None
        reg.amount_key, reg.unique_code = None, 0
        amounts.assign_rest(session, registration=reg, now=now)
        result = Repriced(old_price, new_price, to_pay=reg.amount_due - (reg.amount_received or 0))
    session.flush()
    audit.record(
        session,
        actor=who.actor,
        action="registration.repriced",
        subject_type="registration",
        subject_id=reg.id,
        before={"price": old_price},
        after={"price": new_price, "status": reg.status},
        to_pay=result.to_pay,
        refund=result.refund,
    )
    return result


def pay_difference(
    session: Session, *, registration: Registration, amount: int, language: str
) -> list[Reply]:
    """Transfer instructions for what a category change left owing (the difference, not the total)."""
    accounts = amounts.active_accounts(session, event_id=registration.event_id)
    banks = [a for a in accounts if a.account_number]
    if not banks:
        return [Reply(text=t("payment.no_accounts", language))]
    text = t(
        "payment.instructions",
        language,
        number=registration.number,
        amount=amount,
        code=registration.unique_code,
        accounts=[
            {
                "bank_name": a.bank_name,
                "account_number": a.account_number,
                "holder_name": a.holder_name,
            }
            for a in banks
        ],
        deadline=deadline_text(registration, language=language),
    )
    return [Reply(text=text, kind="payment")]
