"""Message texts an organiser can change: pick by name and moment, see both languages, preview, reset.

Runner texts live in the catalogue (core/texts/{id,en}); an organiser's override replaces one
language of one text. This page lists them grouped by the moment a runner reads them, shows the
current text (override or default) in both languages with its placeholders, previews a draft as
WhatsApp and as Telegram show it, and saves or resets it. Saving goes through set_template, which
refuses a text that would not render.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlalchemy import select

from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import chat_html, templates
from channels.telegram.outbound import to_html
from core import i18n
from core.db import get_sessionmaker, unit_of_work
from core.enums import Role
from core.errors import ServiceError
from core.messaging import texts
from core.models import AdminUser, NotificationTemplate

router = APIRouter(prefix="/admin/settings/messages")
admin_only = require_roles(Role.ADMIN)
LANGUAGES = ("id", "en")

# The moment a runner reads a text, by key prefix (first match wins).
MOMENTS = (
    ("flow.", "Registration"),
    ("payment.", "Payment"),
    ("ticket.email", "E-ticket email"),
    ("ticket.", "E-ticket"),
    ("checkin.", "Check-in desk"),
    ("channels.", "Chat (general)"),
    ("", "Errors and help"),
)
# Names for the texts organisers change most; the others are named by their English opening.
NAMES = {
    "flow.greeting": "Greeting at DAFTAR",
    "payment.instructions": "Payment instructions (unique amount)",
    "payment.photo_received": "Transfer photo received",
    "payment.confirmed": "Payment approved",
    "payment.partial": "Part payment received",
    "payment.rejected": "Payment rejected",
    "payment.reminder": "Payment reminder",
    "payment.expired": "Registration expired",
    "ticket.caption": "E-ticket caption",
}
# Example values for the preview, by placeholder name.
SAMPLES: dict[str, Any] = {
    "number": "JFR-10K-00001", "name": "Siti Aminah", "category": "10K", "count": 2,
    "amount": 250_507, "amount_due": 250_507, "due": 250_507, "received": 150_000,
    "shortfall": 100_507, "total": 400_604, "price": 250_000, "bib": "10001",
    "event_name": "Jakarta Fun Run", "event": "Jakarta Fun Run", "deadline": "Kamis, 3 Des 2026 20:00 WIB",
    "reason": "Nominal transfer tidak sesuai", "bank_name": "BCA", "pickup": "2 hari sebelum lomba, Senayan City",
    "status": "paid", "left": 1998, "n": 3, "time": "09:12", "date": "5 Des", "desk": "Meja 2",
}  # fmt: skip
_MARKUP = re.compile(r"[*_~]|\{%.*?%\}|\{\{.*?\}\}")


@dataclass(frozen=True, slots=True)
class Text:
    key: str
    name: str
    moment: str
    changed: dict[str, bool]


def moment_of(key: str) -> str:
    return next(label for prefix, label in MOMENTS if key.startswith(prefix))


def name_of(key: str, lang: str) -> str:
    """The organiser's name for a text: a curated one, else its English opening words."""
    if key in NAMES:
        return gettext(NAMES[key], lang)
    opening = _MARKUP.sub("…", i18n.catalogue("en").get(key, key)).strip().splitlines()[0]
    return opening if len(opening) <= 70 else opening[:67].rstrip() + "…"


def _overrides(session: Any) -> dict[tuple[str, str], NotificationTemplate]:
    rows = session.scalars(select(NotificationTemplate))
    return {(row.key, row.language): row for row in rows}


@router.get("", response_class=HTMLResponse)
def list_page(request: Request, _user: AdminUser = Depends(admin_only)) -> Response:
    lang = request_language(request)
    with get_sessionmaker()() as session:
        changed = _overrides(session)
    groups: dict[str, list[Text]] = {gettext(label, lang): [] for _, label in MOMENTS}
    for key in sorted(i18n.catalogue("id")):
        flags = {code: (key, code) in changed for code in LANGUAGES}
        groups[gettext(moment_of(key), lang)].append(
            Text(key, name_of(key, lang), moment_of(key), flags)
        )
    ctx = {"groups": {k: sorted(v, key=lambda t: t.name) for k, v in groups.items() if v}}
    return templates.TemplateResponse(request, "messages.html", ctx)


def preview(body: str) -> dict[str, Markup]:
    """``body`` filled with example values, as WhatsApp and as Telegram show it."""
    try:
        template = i18n.compile_text(body)
        names = i18n.text_variables(body)
        values = {n: SAMPLES.get(n, f"«{n}»") for n in names}
        text = template.render(**values, lang="id").strip()
    except Exception as exc:  # noqa: BLE001  (a draft may be broken: show why, never crash)
        return {"error": Markup("{}").format(str(exc))}
    return {"whatsapp": chat_html(text), "telegram": Markup(to_html(text).replace("\n", "<br>"))}


def _edit_context(key: str, drafts: dict[str, str] | None = None) -> dict[str, Any]:
    with get_sessionmaker()() as session:
        stored = _overrides(session)
    languages = []
    for code in LANGUAGES:
        default = i18n.catalogue(code).get(key, "")
        row = stored.get((key, code))
        current = row.body if row else default
        body = (drafts or {}).get(code, current)
        languages.append({
            "code": code, "default": default, "current": current, "body": body,
            "changed": row is not None, "preview": preview(body),
        })  # fmt: skip
    return {
        "key": key,
        "placeholders": sorted(i18n.placeholders(key)),
        "languages": languages,
    }


def _known(key: str) -> None:
    if key not in i18n.catalogue("id"):
        raise HTTPException(status_code=404)


@router.get("/{key}", response_class=HTMLResponse)
def edit_page(request: Request, key: str, _user: AdminUser = Depends(admin_only)) -> Response:
    _known(key)
    lang = request_language(request)
    ctx = {
        **_edit_context(key),
        "name": name_of(key, lang),
        "moment": gettext(moment_of(key), lang),
    }
    return templates.TemplateResponse(request, "message_edit.html", ctx)


@router.post("/{key}", dependencies=[Depends(csrf_protect)])
def save(
    request: Request,
    key: str,
    language: str = Form(...),
    body: str = Form(""),
    action: str = Form("save"),
    user: AdminUser = Depends(admin_only),
) -> Response:
    """Preview a draft (nothing saved), save it, or reset the language to the default text."""
    _known(key)
    if language not in LANGUAGES:
        raise HTTPException(status_code=400, detail="unknown language")
    lang = request_language(request)
    if action == "preview":
        ctx = {**_edit_context(key, {language: body}), "name": name_of(key, lang),
               "moment": gettext(moment_of(key), lang)}  # fmt: skip
        return templates.TemplateResponse(request, "message_edit.html", ctx)
    text = "" if action == "reset" else body
    if text.strip() == i18n.catalogue(language).get(key, "").strip():
        text = ""  # saving the default text is the same as no override
    try:
        with unit_of_work() as uow:
            texts.set_template(
                uow.session, key=key, language=language, body=text, actor=actor_name(user)
            )
            uow.on_commit(i18n.invalidate_overrides)  # this process shows the change at once
    except ServiceError as exc:
        message = gettext("Message not saved: %(why)s", lang, why=str(exc))
        return flash_redirect(request, f"/admin/settings/messages/{key}", message, "error")
    done = gettext("Message saved.", lang) if text else gettext("Default message restored.", lang)
    return flash_redirect(request, f"/admin/settings/messages/{key}", done)
