"""The admin in Bahasa Indonesia and English.

Templates and pages write English source strings, ``_("Registrations")``; the Indonesian text comes
from ``admin/locale/id.po`` (read with Babel, no compile step). The language is the signed-in staff
member's setting (Indonesian by default, the organisers are Indonesian), else the ``admin_lang``
cookie set by the switch on the login page. A string missing from the catalogue shows in English;
tests/admin/test_admin_i18n.py fails when one is missing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi import Request

from admin.auth import current_staff

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"
LANG_COOKIE = "admin_lang"
LOCALE_DIR = Path(__file__).parent / "locale"

# Status values as organisers read them (English source; Indonesian in the catalogue).
STATUS_LABELS = {
    "draft": "Draft",
    "pending_payment": "Waiting for payment",
    "awaiting_verification": "Waiting for verification",
    "partially_paid": "Partly paid",
    "paid": "Paid",
    "rejected": "Rejected",
    "expired": "Expired",
    "cancelled": "Cancelled",
    "submitted": "Waiting for verification",
    "approved": "Approved",
    "pending": "Pending",
    "sending": "Sending",
    "sent": "Sent",
    "waiting": "Waiting for the runner",
    "failed": "Failed",
    "open": "Open",
    "closed": "Closed",
    "unmatched": "Not matched",
    "discarded": "Discarded",
}


@lru_cache(maxsize=4)
def catalogue(lang: str) -> dict[str, str]:
    """English source string -> translation, for ``lang`` (empty for English)."""
    path = LOCALE_DIR / f"{lang}.po"
    if lang == "en" or not path.exists():
        return {}
    with path.open("rb") as fh:
        return {str(m.id): str(m.string) for m in read_po(fh) if m.id and m.string}


def gettext(text: str, lang: str, **values: object) -> str:
    """``text`` in ``lang``, with ``%(name)s`` placeholders filled from ``values``."""
    translated = catalogue(lang).get(text, text) if lang != "en" else text
    return translated % values if values else translated


def _(text: str) -> str:
    """Mark ``text`` as an admin string (listed in the catalogue, translated when shown)."""
    return text


def request_language(request: Request) -> str:
    """The admin language of this request: the staff member's setting, the cookie, Indonesian."""
    user = current_staff(request)
    if user is not None and user.language in LANGUAGES:
        return user.language
    wanted = request.cookies.get(LANG_COOKIE)
    return wanted if wanted in LANGUAGES else DEFAULT_LANGUAGE


def status_label(status: str, lang: str) -> str:
    return gettext(STATUS_LABELS.get(status, status.replace("_", " ").capitalize()), lang)


# Strings built at run time (field names, roles, payment sources) that no _("...") call names.
DYNAMIC = (
    "Admin", "Verifier", "Checkin", "Photo", "Statement", "Manual",
    "Full name", "Gender", "Date of birth", "Email", "Phone", "Jersey size", "Nik",
    "Emergency name", "Emergency phone", "Blood type", "Medical notes", "Status", "Category",
    "Bib", "Reason", "Language", "Amount received", "Payment deadline", "Wrong email or password.",
    # check names (screenshot checks), account kinds, unique-code modes, payment flags
    "Amount", "Destination", "Date", "Reference", "Duplicate", "Bank", "Ewallet", "Qris",
    "Add", "Subtract", "Off", "Reject note", "Statement reference", "Refund due",
    # audit subjects and the most common audit data keys
    "Registration", "Payment", "Event", "Admin user", "Conversation", "Statement line",
    "Payment account", "Outbound message", "Checkin desk", "Template", "Job", "Export",
    "Preset", "Approved", "Failed", "Desk", "Key", "Field", "Count", "Note", "Rows", "Kind",
)  # fmt: skip

_CALL = re.compile(r"""(?<![\w.])(?:_|gettext)\(\s*(["'])((?:(?!\1).)+)\1""")


def source_strings() -> set[str]:
    """Every English source string of the admin: ``_("...")`` in templates and code, the labels."""
    found = set(DYNAMIC) | set(STATUS_LABELS.values())
    root = Path(__file__).parent
    for path in [*root.glob("templates/*.html"), *root.glob("*.py")]:
        text = path.read_text(encoding="utf-8")
        found |= {m.group(2) for m in _CALL.finditer(text) if re.search(r"[A-Za-z]", m.group(2))}
    from admin.audit_words import ACTIONS  # noqa: PLC0415  (audit_words imports this module)

    return found | set(ACTIONS.values())
