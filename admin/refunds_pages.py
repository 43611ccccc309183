"""An event's refunds: what is owed to whom and why, marking one refunded (amount sent, transfer
reference, note; audited, the runner told) or closing it with no refund due under the event's rule,
and the list as CSV. Admins only: money goes out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from admin import forms
from admin.auth import actor_name, csrf_protect, require_roles
from admin.exports import _audit as audit_export
from admin.exports import _respond
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from admin.templating import templates
from core.db import get_sessionmaker
from core.enums import Role
from core.errors import NotFound, ServiceError
from core.i18n import staff_message
from core.models import AdminUser, Event, Refund
from core.registration import refunds
from workers.registrations import mark_refunded, waive_refund

router = APIRouter(prefix="/admin/events")
admin_only = require_roles(Role.ADMIN)


def _(text: str) -> str:
    """Marks an English source string for admin/locale/id.po (translated when shown)."""
    return text


REASONS = {
    "cancellation": _("Cancelled"), "downgrade": _("Cheaper category"),
    "overpaid": _("Paid more than due"),
}  # fmt: skip
STATUSES = {"owed": _("owed"), "refunded": _("refunded"), "waived": _("no refund due")}
BADGES = {"owed": "st-awaiting_verification", "refunded": "st-paid", "waived": "st-expired"}


def _url(event_id: int, status: str = "") -> str:
    return f"/admin/events/{event_id}/refunds" + (f"?status={status}" if status else "")


def _event(session: Any, event_id: int) -> Event:
    event = session.get(Event, event_id)
    if event is None:
        raise HTTPException(status_code=404)
    return event


@router.get("/{event_id}/refunds", response_class=HTMLResponse)
def refunds_page(
    request: Request, event_id: int, status: str = "", _user: AdminUser = Depends(admin_only)
) -> Response:
    status = status if status in STATUSES else ""
    with get_sessionmaker()() as session:
        event = _event(session, event_id)
        rows = refunds.listing(session, event_id=event_id, status=status or None)
        every = rows if not status else refunds.listing(session, event_id=event_id)
        owed = [r for r in every if r.status == refunds.OWED]
        context = {
            "event": event,
            "rows": rows,
            "status": status,
            "owed_count": len(owed),
            "owed_total": sum(r.amount for r in owed),
            "refunded_total": sum(r.refunded_amount or 0 for r in every),
            "reasons": REASONS,
            "statuses": STATUSES,
            "badges": BADGES,
        }
        return templates.TemplateResponse(request, "refunds.html", context)


@router.post("/{event_id}/refunds/{refund_id}/refunded", dependencies=[Depends(csrf_protect)])
async def refunded(
    request: Request, event_id: int, refund_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    lang = request_language(request)
    url = _url(event_id, forms.text(form, "status"))
    with get_sessionmaker()() as session:
        found = session.get(Refund, refund_id)
        if found is None or found.event_id != event_id:
            raise HTTPException(status_code=404)
    try:
        if forms.text(form, "waive"):  # the "no refund due" button of the same form
            marked = waive_refund(refund_id, actor=actor_name(user), note=forms.text(form, "note"))
        else:
            marked = mark_refunded(
                refund_id,
                actor=actor_name(user),
                amount=forms.integer(form, "amount", required=False),
                reference=forms.text(form, "reference"),
                note=forms.text(form, "note"),
            )
    except NotFound as exc:
        raise HTTPException(status_code=404) from exc
    except ServiceError as exc:
        text = f"{gettext('Not saved:', lang)} {staff_message(exc)}"
        return flash_redirect(request, url, text, "error")
    if not marked.changed:
        return flash_redirect(request, url, gettext("Already closed.", lang), "ok")
    if marked.refund.status == refunds.WAIVED:
        return flash_redirect(request, url, gettext("Closed: no refund due.", lang), "ok")
    text = gettext("Marked refunded; the runner has been told in the chat.", lang)
    return flash_redirect(request, url, text, "ok")


@router.get("/{event_id}/refunds.csv")
def refunds_csv(request: Request, event_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    lang = request_language(request)
    with get_sessionmaker()() as session:
        _event(session, event_id)
    audit_export(user, "refunds", "csv", event_id=event_id)

    def rows(session: Any) -> Iterator[list[Any]]:
        headers = ("Registration", "Runner", "Category", "Reason", "Owed", "Status", "Refunded",
                   "Refunded at", "By", "Reference", "Note", "Noted at")  # fmt: skip
        yield [gettext(h, lang) for h in headers]
        for r in refunds.listing(session, event_id=event_id):
            reg = r.registration
            yield [
                reg.number, reg.participant.full_name, reg.category.code,
                gettext(REASONS.get(r.reason, r.reason), lang), r.amount,
                gettext(STATUSES.get(r.status, r.status), lang), r.refunded_amount,
                r.refunded_at, r.refunded_by or "", r.reference, r.note, r.created_at,
            ]  # fmt: skip

    return _respond(rows, f"refunds-{event_id}", "csv")
