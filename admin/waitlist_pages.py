"""An event's waiting list per category: order and status; move up/down, skip, offer by hand, and
the hold time. Admins only; every change is audited by the use case it calls.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from admin import forms
from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.enums import Role
from core.errors import NotFound, ServiceError
from core.models import AdminUser, Event
from core.registration import waitlist, waitlist_admin
from workers.delivery import deliver_after_commit

router = APIRouter(prefix="/admin/events")
admin_only = require_roles(Role.ADMIN)


def _(text: str) -> str:
    """Marks an English source string for admin/locale/id.po (translated when shown)."""
    return text


MESSAGES = (
    _("This runner is not waiting"), _("No free slot in this category"),
    _("No jersey of this size left"), _("A hold lasts 1 to 336 hours"),
)  # fmt: skip
STATUS_LABELS = {
    "waiting": _("waiting"), "offered": _("offered"), "accepted": _("accepted"),
    "registered": _("registered"), "lapsed": _("lapsed"), "skipped": _("skipped"),
    "left": _("left the list"),
}  # fmt: skip


# Badge colours borrowed from the registration statuses.
BADGES = {"offered": "st-awaiting_verification", "accepted": "st-partially_paid",
          "registered": "st-paid", "lapsed": "st-expired", "skipped": "st-rejected"}  # fmt: skip


def _url(event_id: int, category: str = "") -> str:
    return f"/admin/events/{event_id}/waitlist" + (f"?category={category}" if category else "")


def _say(request: Request, url: str, message: str, kind: str = "ok") -> Response:
    return flash_redirect(request, url, gettext(message, request_language(request)), kind)


def _event(session: Any, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise HTTPException(status_code=404)
    return event


@router.get("/{event_id}/waitlist", response_class=HTMLResponse)
def waitlist_page(
    request: Request, event_id: int, category: str = "", _user: AdminUser = Depends(admin_only)
) -> Response:
    with get_sessionmaker()() as session:
        event = _event(session, event_id)
        chosen = next((c for c in event.categories if c.code == category), None)
        entries = waitlist_admin.listing(
            session, event_id=event_id, category_id=chosen.id if chosen else None
        )
        codes = {c.id: c.code for c in event.categories}
        positions = {e.id: waitlist.position(session, e) for e in entries}
        context = {
            "event": event,
            "entries": entries,
            "codes": codes,
            "positions": positions,
            "category": chosen.code if chosen else "",
            "labels": STATUS_LABELS,
            "badges": BADGES,
        }
        return templates.TemplateResponse(request, "waitlist.html", context)


@router.post("/{event_id}/waitlist/hold", dependencies=[Depends(csrf_protect)])
async def set_hold(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    try:
        with unit_of_work() as uow:
            waitlist_admin.set_hold_hours(uow.session, event_id=event_id, actor=actor_name(user),
                                          hours=forms.integer(form, "hours") or 0)  # fmt: skip
    except NotFound as exc:
        raise HTTPException(status_code=404) from exc
    except (ServiceError, ValueError) as exc:
        return _refused(request, _url(event_id), exc)
    return _say(request, _url(event_id), _("Hold time saved."))


@router.post("/{event_id}/waitlist/{entry_id}/{action}", dependencies=[Depends(csrf_protect)])
async def entry_action(
    request: Request, event_id: int, entry_id: int, action: str,
    user: AdminUser = Depends(admin_only),
) -> Response:  # fmt: skip
    if action not in ("up", "down", "skip", "offer"):
        raise HTTPException(status_code=404)
    url = _url(event_id, forms.text(await request.form(), "category"))
    try:
        with unit_of_work() as uow:
            done = _apply(uow.session, event_id, entry_id, action, actor_name(user))
            deliver_after_commit(uow, waitlist.pending_outbound(uow.session))
    except NotFound as exc:
        raise HTTPException(status_code=404) from exc
    except ServiceError as exc:
        return _refused(request, url, exc)
    if not done:
        return _say(request, url, _("Nothing changed."), "error")
    return _say(request, url, DONE[action])


DONE = {
    "up": _("Moved up."), "down": _("Moved down."), "skip": _("Runner skipped."),
    "offer": _("Slot offered; the runner has been told in the chat."),
}  # fmt: skip


def _apply(session: Any, event_id: int, entry_id: int, action: str, actor: str) -> bool:
    common = {"event_id": event_id, "entry_id": entry_id, "actor": actor}
    if action in ("up", "down"):
        return waitlist_admin.move(session, up=action == "up", **common)
    if action == "skip":
        return waitlist_admin.skip(session, now=utcnow(), **common)
    waitlist_admin.offer(session, now=utcnow(), **common)
    return True


def _refused(request: Request, url: str, exc: Exception) -> Response:
    language = request_language(request)
    key = exc.key if isinstance(exc, ServiceError) and exc.key in MESSAGES else str(exc)
    text = gettext("Not saved: %(v)s", language, v=gettext(key, language))
    return flash_redirect(request, url, text, "error")
