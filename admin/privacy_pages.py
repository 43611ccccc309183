"""Personal data in the admin: runners' deletion requests (honour / decline) and each event's
retention days and privacy notice (both languages)."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Role
from core.errors import Conflict, InvalidSetting
from core.models import AdminUser, Event
from core.privacy import files, requests, retention
from core.privacy import notice as notices
from workers.delivery import deliver_after_commit

router = APIRouter(prefix="/admin/privacy", dependencies=[Depends(require_roles(Role.ADMIN))])
admin_only = require_roles(Role.ADMIN)
PAGE = "/admin/privacy"


def _(text: str) -> str:
    """Marks an English source string for the catalogue (scripts/admin_po.py); _say translates."""
    return text


def _say(request: Request, url: str, text: str, kind: str = "ok", **values: object) -> Response:
    return flash_redirect(request, url, gettext(text, request_language(request), **values), kind)


@router.get("", response_class=HTMLResponse)
def privacy_page(request: Request) -> Response:
    with get_sessionmaker()() as session:
        rows = requests.pending(session)
        found = {r.id: requests.registrations_of(session, r) for r in rows}
        items = [{"request": r, "numbers": [g.number for g in found[r.id]]} for r in rows]
        events = session.scalars(select(Event).order_by(Event.race_date.desc())).all()
        settings = {e.id: retention.settings_for(session, e.id) for e in events}
        ctx = {"items": items, "events": events, "settings": settings,
               "purge_dates": {e.id: retention.purge_date(e, settings[e.id]) for e in events}}  # fmt: skip
        response = templates.TemplateResponse(request, "privacy.html", ctx)
        session.rollback()  # settings_for may add default rows: a page view writes nothing
    return response


@router.post("/requests/{request_id}/honour", dependencies=[Depends(csrf_protect)])
def honour(request: Request, request_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    try:
        with unit_of_work() as uow:
            done = requests.honour(uow.session, request_id=request_id, staff=user, now=utcnow())
            uow.on_commit(partial(files.remove, done.paths))
            deliver_after_commit(uow, done.notices)
    except Conflict:
        return _say(request, PAGE, _("This request was already decided."), "error")
    return _say(request, PAGE, _("Personal data deleted from %(n)s registrations; the runner was told."),
                n=done.registrations)  # fmt: skip


@router.post("/requests/{request_id}/decline", dependencies=[Depends(csrf_protect)])
def decline(request: Request, request_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    try:
        with unit_of_work() as uow:
            requests.decline(uow.session, request_id=request_id, staff=user, now=utcnow())
            deliver_after_commit(uow, requests.notices_of(uow.session, request_id))
    except Conflict:
        return _say(request, PAGE, _("This request was already decided."), "error")
    return _say(request, PAGE, _("Request declined; the runner was told."))


@router.post("/events/{event_id}", dependencies=[Depends(csrf_protect)])
def save_event(
    request: Request,
    event_id: int,
    retention_days: int = Form(retention.DEFAULT_RETENTION_DAYS),
    notice: str = Form(""),
    notice_en: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    actor = actor_name(user)
    try:
        with unit_of_work() as uow:
            retention.set_retention(
                uow.session, event_id=event_id, days=retention_days, actor=actor
            )
            notices.set_notice(uow.session, event_id=event_id, notice=notice,
                               notice_en=notice_en, actor=actor)  # fmt: skip
    except InvalidSetting:
        return _say(request, PAGE, _("Keep between 0 and %(n)s days."), "error",
                    n=retention.MAX_RETENTION_DAYS)  # fmt: skip
    return _say(request, PAGE, _("Privacy settings saved."))
