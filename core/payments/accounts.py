"""Accounts runners pay into: bank, e-wallet and QRIS, per event or for every event."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import records
from core.errors import InvalidSetting
from core.models import Event, PaymentAccount

ACCOUNT_FIELDS = ("kind", "bank_name", "account_number", "holder_name", "active", "sort_order")


def save_account(
    session: Session, *, account_id: int | None, event_id: int | None, data: dict, actor: str
) -> PaymentAccount:
    """Create or update a bank / e-wallet / QRIS account runners may pay into."""
    if not (data.get("bank_name") or "").strip():
        raise InvalidSetting("the account needs a bank or wallet name")
    if account_id is None:
        account = PaymentAccount(event_id=event_id, bank_name=data["bank_name"])
        session.add(account)
    else:
        account = records.get(session, PaymentAccount, account_id, lock=True)
    if event_id is not None:
        records.get(session, Event, event_id)  # NotFound rather than a foreign-key error
    data = {**data, "event_id": event_id}  # None: the account serves every event
    before, after = records.apply(account, data, (*ACCOUNT_FIELDS, "event_id"))
    session.flush()
    action = "settings.account_created" if account_id is None else "settings.account_updated"
    records.audit_change(session, actor, action, account, before, after)
    return account


def set_qris_image(session: Session, *, account_id: int, path: str | None, actor: str) -> None:
    """Point an account at its stored QRIS image (path relative to MEDIA_DIR)."""
    account = records.get(session, PaymentAccount, account_id, lock=True)
    before, after = records.apply(account, {"qris_image_path": path}, ("qris_image_path",))
    records.audit_change(session, actor, "settings.qris", account, before, after)
