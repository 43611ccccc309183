"""Check-in desks over HTTP: open one with the event PIN, list and revoke them, export CSVs.

A desk's token lives only in its device's HttpOnly cookie; the database keeps a hash of it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from admin.auth import actor_name, require_roles, verify_csrf
from admin.templating import templates
from core.config import get_settings
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Role
from core.fulfilment import checkin_exports, desks
from core.fulfilment.desks import DeskOutcome
from core.i18n import t
from core.models import AdminUser, Event

DESK_COOKIE = "funrun_desk"
DESK_MAX_AGE = 4 * 24 * 3600  # race-pack pickup runs a few days before the race
router = APIRouter()
_FORM_KEYS = ("desk_title", "desk_name", "pin", "open", "title")


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or get_settings().default_language
    return lang if lang in ("id", "en") else "id"


def _desk_form(request: Request, error: str | None = None, status_code: int = 200) -> Any:
    lang = _lang(request)
    with get_sessionmaker()() as session:
        events = list(
            session.scalars(
                select(Event).where(Event.checkin_pin_hash.is_not(None)).order_by(Event.race_date)
            )
        )
        context = {
            "events": events,
            "error": error,
            "tx": {k: t(f"checkin.{k}", lang) for k in _FORM_KEYS},
        }
        return templates.TemplateResponse(
            request, "checkin_desk.html", context, status_code=status_code
        )


@router.get("/checkin/desk", response_class=HTMLResponse)
def desk_form(request: Request) -> Any:
    """The form a device uses to become a check-in desk."""
    return _desk_form(request)


@router.post("/checkin/desk")
def open_desk(
    request: Request,
    event_id: int = Form(...),
    name: str = Form(..., max_length=100),
    pin: str = Form(..., max_length=64),
    csrf_token: str = Form(""),
) -> Any:
    """Check the PIN; on success give this device its own desk token cookie."""
    verify_csrf(request, csrf_token)
    address = request.client.host if request.client else "unknown"
    with unit_of_work() as uow:
        opening = desks.open_desk(
            uow.session, event_id=event_id, pin=pin, name=name, address=address, now=utcnow()
        )
    if opening.outcome is not DeskOutcome.OPENED or opening.token is None:
        key = {"wrong_pin": "pin_wrong", "throttled": "throttled"}.get(opening.outcome, "no_pin")
        status_code = 429 if opening.outcome is DeskOutcome.THROTTLED else 403
        return _desk_form(request, t(f"checkin.{key}", _lang(request)), status_code)
    response = RedirectResponse("/checkin", status_code=303)
    response.set_cookie(
        DESK_COOKIE,
        opening.token,
        max_age=DESK_MAX_AGE,
        path="/checkin",
        httponly=True,
        secure=get_settings().secure_cookies,
        samesite="strict",
    )
    return response


@router.post("/checkin/desk/close")
def close_desk(request: Request, csrf_token: str = Form("")) -> Response:
    """Forget this device's desk token (staff revoke it from the desks page)."""
    verify_csrf(request, csrf_token)
    response = RedirectResponse("/checkin/desk", status_code=303)
    response.delete_cookie(DESK_COOKIE, path="/checkin")
    return response


@router.get("/checkin/desks", response_class=HTMLResponse)
def desks_page(
    request: Request, event: int, _user: AdminUser = Depends(require_roles(Role.ADMIN))
) -> Any:
    """Desks opened for an event, with a revoke button each."""
    with get_sessionmaker()() as session:
        context = {
            "event": session.get(Event, event),
            "desks": desks.list_desks(session, event),
        }
        return templates.TemplateResponse(request, "checkin_desks.html", context)


@router.post("/checkin/desks/{desk_id}/revoke")
def revoke(
    request: Request,
    desk_id: int,
    event: int = Form(...),
    csrf_token: str = Form(""),
    user: AdminUser = Depends(require_roles(Role.ADMIN)),
) -> Response:
    """Revoke one desk: its device is sent back to the PIN form on its next request."""
    verify_csrf(request, csrf_token)
    with unit_of_work() as uow:
        desks.revoke_desk(uow.session, desk_id=desk_id, actor=actor_name(user), now=utcnow())
    return RedirectResponse(f"/checkin/desks?event={event}", status_code=303)


def _csv(body: str, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/checkin/export/checkins.csv")
def export_checkins(
    event: int, _user: AdminUser = Depends(require_roles(Role.CHECKIN))
) -> Response:
    """Download every check-in of an event."""
    with get_sessionmaker()() as session:
        return _csv(checkin_exports.export_checkins_csv(session, event), f"checkins-{event}.csv")


@router.get("/checkin/export/failed-scans.csv")
def export_failed(event: int, _user: AdminUser = Depends(require_roles(Role.CHECKIN))) -> Response:
    """Download every refused scan of an event, with its reason."""
    with get_sessionmaker()() as session:
        return _csv(
            checkin_exports.export_failed_scans_csv(session, event), f"failed-scans-{event}.csv"
        )
