"""The admin's Jinja2 environment (autoescape on): ``templates`` plus formatting filters.

Pages extend ``base.html`` (blocks ``title`` and ``content``, optional ``head`` and ``scripts``) and put
``{{ csrf_field() }}`` inside every POST form.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from markupsafe import Markup, escape

from admin.auth import CSRF_FIELD, csrf_token, current_staff, has_role
from admin.i18n import gettext, request_language, status_label
from admin.session import pop_flashes
from core.config import get_settings
from core.enums import Role
from core.formatting import MONTHS, format_number, rupiah

TEMPLATES_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(directory=str(TEMPLATES_DIR))


def local_dt(value: datetime | None, fmt: str | None = None, lang: str = "en") -> str:
    """``03 Des 2026 14:05`` in the configured timezone and ``lang``'s month names ('' for None).

    ``fmt`` (strftime, numbers only: ``%H:%M``) formats the time instead."""
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(get_settings().timezone))
    if fmt:
        return local.strftime(fmt.replace("%d %b ", f"{local.day:02d} {_month(local, lang)} "))
    return f"{local_date(local.date(), lang)} {local:%H:%M}"


def _month(value: date, lang: str) -> str:
    return MONTHS.get(lang, MONTHS["en"])[value.month - 1]


def local_date(value: date | None, lang: str = "en") -> str:
    if not value:
        return ""
    return f"{value.day:02d} {_month(value, lang)} {value.year}"


def thousands(value: int | float | None, lang: str = "id") -> str:
    """Format 12345 as ``12.345`` (Indonesian) or ``12,345`` (English)."""
    return format_number(int(value), lang) if value is not None else "-"


def money(amount: int | None, lang: str = "id") -> str:
    """``Rp150.000`` in Indonesian, ``Rp150,000`` in English."""
    text = rupiah(amount)
    return text.replace(".", ",") if lang == "en" else text


_CHAT_MARKS = (
    (re.compile(r"\*([^*\n]+)\*"), "strong"),
    (re.compile(r"(?<!\w)_([^_\n]+)_(?!\w)"), "em"),
    (re.compile(r"~([^~\n]+)~"), "s"),
)


def chat_html(text: str | None) -> Markup:
    """A chat message as it reads on the phone: escaped, with WhatsApp *bold*, _italic_, ~strike~."""
    html = str(escape(text or ""))
    for pattern, tag in _CHAT_MARKS:
        html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    return Markup(html)


CHANNEL_LABELS = {
    "telegram": "Telegram",
    "whatsapp": "WhatsApp (Fonnte)",
    "whatsapp_cloud": "WhatsApp (Cloud API)",
    "simulator": "Simulator",
}


@pass_context
def translate(context: Any, text: str, **values: object) -> str:
    return gettext(text, context_language(context), **values)


def context_language(context: Any) -> str:
    request = context.get("request")
    return request_language(request) if request is not None else "id"


@pass_context
def csrf_field(context: Any) -> Markup:
    """The hidden CSRF input for a POST form of the current request."""
    token = csrf_token(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


@pass_context
def staff(context: Any) -> Any:
    return current_staff(context["request"])


@pass_context
def can(context: Any, *roles: str) -> bool:
    """True when the signed-in user holds one of ``roles`` (admins hold all)."""
    user = current_staff(context["request"])
    return user is not None and has_role(user, *(Role(r) for r in roles))


templates.env.filters["rupiah"] = pass_context(lambda c, v: money(v, context_language(c)))
templates.env.filters["dt"] = pass_context(lambda c, v, f=None: local_dt(v, f, context_language(c)))
templates.env.filters["d"] = pass_context(lambda c, v: local_date(v, context_language(c)))
templates.env.filters["num"] = pass_context(lambda c, v: thousands(v, context_language(c)))
templates.env.filters["status"] = pass_context(lambda c, v: status_label(v, context_language(c)))
templates.env.filters["chat"] = chat_html
templates.env.filters["channel"] = lambda v: CHANNEL_LABELS.get(v, v)
templates.env.globals["_"] = translate
templates.env.globals["ui_lang"] = pass_context(context_language)
templates.env.globals["csrf_field"] = csrf_field
templates.env.globals["csrf_token"] = pass_context(lambda ctx: csrf_token(ctx["request"]))
templates.env.globals["current_user"] = staff
templates.env.globals["can"] = can
templates.env.globals["flashes"] = pass_context(lambda ctx: pop_flashes(ctx["request"]))
