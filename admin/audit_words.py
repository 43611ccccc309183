"""Audit rows in words for organisers: "Payment approved", "Full name: Dewi → Dewi Ayu".

English source strings (translated by admin.i18n); an action not listed here is shown as its
dotted name in plain words, so a new action never shows raw JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from admin.i18n import gettext, status_label
from core.models import AuditLog

ACTIONS = {
    "registration.submitted": "Registered",
    "registration.paid": "Paid, BIB assigned",
    "registration.edited": "Participant data edited",
    "registration.cancelled": "Registration cancelled",
    "registration.moved": "Moved to another category",
    "registration.repriced": "Price changed with the category",
    "registration.transferred": "Transferred to another person",
    "registration.freeze_overridden": "Data freeze overridden",
    "registration.answer_edited": "Event question answer edited",
    "refund.owed": "Refund owed",
    "refund.marked": "Refund marked sent",
    "refund.waived": "Refund closed: none due",
    "event.changes_policy": "Rules for changes after registration changed",
    "registration.expired": "Expired (not paid in time)",
    "registration.checked_in": "Race pack collected",
    "payment.photo_received": "Transfer photo received",
    "payment.approved": "Payment approved",
    "payment.rejected": "Payment rejected",
    "payment.overpaid": "Paid more than due",
    "payment.reminder_sent": "Payment reminder sent",
    "ticket.reissued": "E-ticket reissued",
    "ticket.resend_requested": "E-ticket sent again",
    "statement.line_approved": "Bank statement credit approved",
    "statement.line_discarded": "Bank statement credit discarded",
    "statement.imported": "Bank statement imported",
    "staff.login": "Signed in",
    "staff.login_failed": "Failed sign-in",
    "staff.login_throttled": "Sign-in blocked (too many tries)",
    "staff.logout": "Signed out",
    "staff.created": "Staff account created",
    "staff.updated": "Staff account changed",
    "staff.password_changed": "Password changed",
    "staff.language_changed": "Admin language changed",
    "staff.2fa_enabled": "Two-factor sign-in turned on",
    "staff.2fa_disabled": "Two-factor sign-in turned off",
    "staff.2fa_reset": "Two-factor sign-in reset by an admin",
    "staff.2fa_required_changed": "Two-factor rule for admins changed",
    "staff.2fa_passed": "Sign-in code accepted",
    "staff.2fa_failed": "Wrong sign-in code",
    "staff.2fa_throttled": "Sign-in code blocked (too many tries)",
    "staff.2fa_recovery_used": "Recovery code used",
    "staff.2fa_codes_regenerated": "New recovery codes",
    "staff.session_revoked": "Signed out one browser",
    "privacy.deletion_requested": "Runner asked for their data to be deleted",
    "privacy.deletion_honoured": "Runner's personal data deleted on request",
    "privacy.deletion_declined": "Data deletion request declined",
    "privacy.retention_purged": "Photos, letters, NIK and medical notes deleted (retention)",
    "privacy.retention_changed": "Data retention changed",
    "privacy.notice_changed": "Privacy notice changed",
    "staff.sessions_revoked": "Signed out everywhere else",
    "event.updated": "Event changed",
    "event.jersey_stock": "Jersey stock changed",
    "settings.template": "Message text changed",
    "settings.checkin_pin": "Check-in PIN changed",
    "settings.payment": "Payment settings changed",
    "settings.qris": "QRIS image changed",
    "checkin_desk.opened": "Check-in desk opened",
    "checkin_desk.revoked": "Check-in desk closed",
    "conversation.draft_started": "Chat registration started",
    "conversation.draft_cancelled": "Chat registration cancelled",
    "conversation.draft_dropped": "Unfinished chat registration dropped",
    "conversation.flood_muted": "Chat slowed down (too many messages)",
    "operations.dead_letter_retried": "Failed job retried",
    "outbound.failed": "Message could not be delivered",
    "payment_account.mapping_saved": "Bank statement columns saved",
    "category.tiers_saved": "Price tiers changed",
    "voucher.created": "Voucher code created",
    "voucher.generated": "Voucher codes generated",
    "voucher.disabled": "Voucher code disabled",
    "voucher.enabled": "Voucher code enabled",
    "voucher.deleted": "Voucher code deleted",
    "broadcast.sent": "Broadcast sent",
    "broadcast.stopped": "Runner stopped broadcasts (STOP)",
    "broadcast.started": "Runner rejoined broadcasts (START)",
    "event.created": "Event created",
    "event.whatsapp_provider": "WhatsApp number changed",
    "event.whatsapp_numbers": "Numbers serving the event changed",
    "ocr.auto_approve_set": "Auto-approve switched",
    "ocr.field_corrected": "Screenshot reading corrected",
    "payment.auto_approved": "Payment approved automatically",
    "payment.batch_approved": "Payment approved (all green)",
    "whatsapp.stopped": "WhatsApp messages stopped by the runner",
    "export.participants": "Participants exported",
    "export.financial": "Financial report exported",
    "export.checkins": "Check-ins exported",
    "export.failed_scans": "Failed scans exported",
}
# Fields whose values are statuses are shown with their labels.
STATUS_FIELDS = {"status", "payment_status"}
HIDDEN_FIELDS = {"password_hash", "token", "ticket_token"}


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    before: str
    after: str


def action_text(action: str, lang: str) -> str:
    default = action.replace(".", ": ").replace("_", " ").capitalize()
    return gettext(ACTIONS[action], lang) if action in ACTIONS else default


def changes(row: AuditLog, lang: str) -> list[Change]:
    """The fields that differ between ``before`` and ``after`` (or were set), in words."""
    before, after = row.before or {}, row.after or {}
    out = []
    for key in [*before, *(k for k in after if k not in before)]:
        if key in HIDDEN_FIELDS or before.get(key) == after.get(key):
            continue
        field = key.replace("_", " ").capitalize()
        out.append(
            Change(
                gettext(field, lang),
                _value(key, before.get(key), lang),
                _value(key, after.get(key), lang),
            )
        )
    return out


def _value(key: str, value: Any, lang: str) -> str:
    if value is None or value == "":
        return "—"
    if key in STATUS_FIELDS and isinstance(value, str):
        return status_label(value, lang)
    if key == "role" and isinstance(value, str):
        return gettext(value.capitalize(), lang)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)
