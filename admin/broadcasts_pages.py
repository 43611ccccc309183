"""Broadcasts: write a message to a segment, preview it as WhatsApp and Telegram show it, send it,
then follow its progress (polled JSON) and each recipient's result. Admin role only, audited, CSRF.

The send writes a Broadcast row; workers.broadcasts writes the outbox rows in batches behind the
runners' own replies (core.messaging.broadcasts).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup
from sqlalchemy import select
from starlette.datastructures import UploadFile

from admin import forms, uploads
from admin.auth import actor_name, csrf_protect, require_roles, wants_json
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import chat_html, templates
from channels.telegram.outbound import to_html
from core.db import get_sessionmaker, unit_of_work
from core.enums import Role
from core.errors import InvalidSetting, NotFound, ServiceError
from core.i18n import t
from core.messaging import broadcasts
from core.models import AdminUser, Broadcast, Category, Event, EventQuestion
from workers.broadcasts import write_broadcast

log = logging.getLogger(__name__)
router = APIRouter(prefix="/admin/broadcasts")
admin_only = require_roles(Role.ADMIN)
SHOWN_RECIPIENTS = 200


def _(text: str) -> str:
    return text  # marks a string for the translation catalogue (scripts/admin_po.py)


# The labels of core.messaging.broadcasts.SEGMENTS, translated in the templates.
SEGMENT_LABELS = (
    _("Everyone registered"), _("Not paid yet"), _("Paid"), _("One category"),
    _("Picked up the race pack"), _("Paid, race pack not picked up"),
    _("On the waiting list"), _("Gave an answer to a question"),
)  # fmt: skip


def _choices(session: Any) -> dict[str, Any]:
    events = list(session.scalars(select(Event).order_by(Event.id.desc())))
    categories = list(session.scalars(select(Category).order_by(Category.event_id, Category.id)))
    past = list(session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(30)))
    questions = list(session.scalars(select(EventQuestion).order_by(EventQuestion.event_id,
                                                                    EventQuestion.position)))  # fmt: skip
    return {"events": events, "categories": categories, "segments": broadcasts.SEGMENTS.values(),
            "past": past, "segments_by_name": broadcasts.SEGMENTS,
            "questions": questions}  # fmt: skip


def _draft(form: Any) -> dict[str, Any]:
    return {
        "event_id": forms.integer(form, "event_id", required=False),
        "segment": forms.text(form, "segment") or "all",
        "arg": _segment_arg(form, forms.text(form, "segment")),
        "text": str(form.get("text") or "").strip(),
    }


def _segment_arg(form: Any, segment: str) -> str:
    """The category for "One category", "question id=answer" for a question's answer."""
    if segment == "category":
        return forms.text(form, "category_id")
    if segment == "answer":
        return f"{forms.text(form, 'question_id')}={forms.text(form, 'answer')}"
    return ""


def previews(text: str) -> list[dict[str, Any]]:
    """The message in each language as WhatsApp and Telegram show it (the STOP line included)."""
    shown = []
    for lang in ("id", "en"):
        body = f"{text}\n\n{t('broadcast.footer', lang)}"
        shown.append({"lang": lang, "whatsapp": chat_html(body),
                      "telegram": Markup(to_html(body).replace("\n", "<br>"))})  # fmt: skip
    return shown


def _preview(draft: dict[str, Any]) -> dict[str, Any]:
    if not draft["event_id"]:
        raise InvalidSetting("choose an event")
    with get_sessionmaker()() as session:
        reach = broadcasts.reach(session, event_id=draft["event_id"], segment=draft["segment"],
                                 arg=draft["arg"])  # fmt: skip
    return {"chats": reach.chats, "stopped": reach.stopped, "previews": previews(draft["text"])}


@router.get("", response_class=HTMLResponse)
def page(request: Request, _user: AdminUser = Depends(admin_only)) -> Response:
    with get_sessionmaker()() as session:
        ctx = {**_choices(session), "draft": {"segment": "all", "text": ""}}
        return templates.TemplateResponse(request, "broadcasts.html", ctx)


@router.post("/preview", dependencies=[Depends(csrf_protect)])
async def preview(request: Request, _user: AdminUser = Depends(admin_only)) -> Response:
    """The recipient count and the previews (JSON for the page's script, else the page again)."""
    form = await request.form()
    try:
        draft = _draft(form)
        shown = _preview(draft)
    except ServiceError as exc:
        if wants_json(request):
            return JSONResponse({"error": str(exc)}, status_code=400)
        return flash_redirect(request, "/admin/broadcasts", str(exc), "error")
    if wants_json(request):
        html = templates.get_template("_broadcast_preview.html").render(request=request, **shown)
        return JSONResponse({"chats": shown["chats"], "stopped": shown["stopped"], "html": html})
    with get_sessionmaker()() as session:
        ctx = {**_choices(session), "draft": draft, **shown}
        return templates.TemplateResponse(request, "broadcasts.html", ctx)


@router.post("", dependencies=[Depends(csrf_protect)])
async def send(request: Request, user: AdminUser = Depends(admin_only)) -> Response:
    form = await request.form()
    lang = request_language(request)
    try:
        draft = _draft(form)
        if not draft["event_id"]:
            raise InvalidSetting("choose an event")
        image = await _store_image(form.get("image"))
        with unit_of_work() as uow:
            row = broadcasts.create(
                uow.session, event_id=draft["event_id"], segment=draft["segment"],
                arg=draft["arg"], text=draft["text"], image_path=image, actor=actor_name(user),
            )  # fmt: skip
            broadcast_id = row.id
            uow.on_commit(lambda: _start(broadcast_id))
    except ServiceError as exc:
        message = gettext("Broadcast not sent: %(why)s", lang, why=str(exc))
        return flash_redirect(request, "/admin/broadcasts", message, "error")
    done = gettext("Broadcast queued.", lang)
    return flash_redirect(request, f"/admin/broadcasts/{broadcast_id}", done)


def _start(broadcast_id: int) -> None:
    try:
        write_broadcast.send(broadcast_id)
    except Exception:  # noqa: BLE001  (Redis down: workers.broadcasts.resume_broadcasts catches up)
        log.warning("could not queue broadcast %s; it will be resumed", broadcast_id)


async def _store_image(upload: Any) -> str | None:
    """The attached image's MEDIA_DIR path (None without one)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return await uploads.store_image(upload)


@router.get("/{broadcast_id}", response_class=HTMLResponse)
def detail(request: Request, broadcast_id: int, _user: AdminUser = Depends(admin_only)) -> Response:
    with get_sessionmaker()() as session:
        row = session.get(Broadcast, broadcast_id)
        if row is None:
            raise NotFound("no such broadcast")
        ctx = {
            "b": row, "event": session.get(Event, row.event_id),
            "segment": broadcasts.SEGMENTS.get(row.segment),
            "category": session.get(Category, int(row.segment_arg)) if row.segment_arg.isdecimal() else None,
            "progress": broadcasts.progress(session, broadcast_id),
            "recipients": broadcasts.recipients(session, broadcast_id, limit=SHOWN_RECIPIENTS),
            "shown": SHOWN_RECIPIENTS, "previews": previews(row.text),
        }  # fmt: skip
        return templates.TemplateResponse(request, "broadcast_detail.html", ctx)


@router.get("/{broadcast_id}/progress.json")
def progress_json(broadcast_id: int, _user: AdminUser = Depends(admin_only)) -> JSONResponse:
    """Polled by the progress page every few seconds."""
    with get_sessionmaker()() as session:
        try:
            return JSONResponse(broadcasts.progress(session, broadcast_id))
        except NotFound as exc:
            raise HTTPException(status_code=404) from exc
