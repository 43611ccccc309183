"""Changes after registration in the admin: jersey, category with the price difference, transfer
(registration detail page) and the event's cut-off, data freeze and refund rule (event page).

Staff who may verify may change registrations; only admins may override a data freeze or set the
event's rules. Every change is audited by core; refusals come back as a flash message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin import forms
from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import gettext, request_language
from admin.session import flash_redirect
from core.db import get_sessionmaker
from core.enums import Role
from core.errors import InvalidSetting, ServiceError
from core.i18n import staff_message
from core.models import AdminUser, Event
from core.phones import to_e164
from core.registration.changes import Who
from workers import changes

router = APIRouter()
verifier = require_roles(Role.VERIFIER)
admin_only = require_roles(Role.ADMIN)
BASE = "/admin/registrations/{id}/changes"


def _(text: str) -> str:
    """Mark an English source string for admin/locale/id.po (translated when flashed)."""
    return text


def _who(user: AdminUser, form: Any) -> Who:
    override = forms.checkbox(form, "override") and user.role == Role.ADMIN.value
    return Who(actor_name(user), override=override)


def _back(request: Request, registration_id: int, message: str, kind: str = "ok") -> Response:
    text = gettext(message, request_language(request))
    return flash_redirect(request, f"/admin/registrations/{registration_id}", text, kind)


def _refused(request: Request, registration_id: int, exc: ServiceError) -> Response:
    prefix = gettext("Not changed:", request_language(request))
    url = f"/admin/registrations/{registration_id}"
    return flash_redirect(request, url, f"{prefix} {staff_message(exc)}", "error")


@router.post(BASE.format(id="{registration_id}") + "/jersey", dependencies=[Depends(csrf_protect)])
async def jersey(
    request: Request, registration_id: int, user: AdminUser = Depends(verifier)
) -> Response:
    form = await request.form()
    try:
        changes.change_jersey(
            registration_id, size=forms.text(form, "jersey_size"), who=_who(user, form)
        )
    except ServiceError as exc:
        return _refused(request, registration_id, exc)
    return _back(request, registration_id, _("Jersey size changed."))


@router.post(
    BASE.format(id="{registration_id}") + "/category", dependencies=[Depends(csrf_protect)]
)
async def category(
    request: Request, registration_id: int, user: AdminUser = Depends(verifier)
) -> Response:
    form = await request.form()
    try:
        category_id = forms.integer(form, "category_id") or 0
        result = changes.change_category(
            registration_id, category_id=category_id, who=_who(user, form)
        )
    except ServiceError as exc:
        return _refused(request, registration_id, exc)
    if result.to_pay:
        return _back(
            request, registration_id, _("Category changed; the runner owes the difference.")
        )
    if result.refund:
        return _back(request, registration_id, _("Category changed; a refund is owed (noted)."))
    return _back(request, registration_id, _("Category changed."))


def _person(form: Any) -> dict[str, Any]:
    """The new holder's details, checked like the chat checks them."""
    name = forms.text(form, "full_name")
    if not 3 <= len(name) <= 100:
        raise InvalidSetting("the full name needs 3 to 100 characters")
    person: dict[str, Any] = {"full_name": name, "gender": forms.text(form, "gender") or None}
    if forms.text(form, "date_of_birth"):
        person["date_of_birth"] = forms.day(form, "date_of_birth")
    for field in ("phone", "emergency_phone"):
        raw = forms.text(form, field)
        if raw and to_e164(raw) is None:
            raise InvalidSetting(f"{field.replace('_', ' ')} is not a valid phone number")
        person[field] = to_e164(raw) if raw else None
    person["email"] = forms.text(form, "email").lower() or None
    person["emergency_name"] = forms.text(form, "emergency_name") or None
    return person


@router.post(
    BASE.format(id="{registration_id}") + "/transfer", dependencies=[Depends(csrf_protect)]
)
async def transfer(
    request: Request, registration_id: int, user: AdminUser = Depends(verifier)
) -> Response:
    form = await request.form()
    try:
        changes.transfer(registration_id, person=_person(form), who=_who(user, form))
    except ServiceError as exc:
        return _refused(request, registration_id, exc)
    return _back(request, registration_id, _("Transferred; the old QR no longer admits anyone."))


@router.post("/admin/events/{event_id}/changes", dependencies=[Depends(csrf_protect)])
async def policy(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    lang = request_language(request)
    with get_sessionmaker()() as session:
        event = session.get(Event, event_id)
        tz = event.timezone if event else "Asia/Jakarta"
    try:
        data = {
            "changes_until": forms.moment(form, "changes_until", tz),
            "data_frozen": forms.checkbox(form, "data_frozen"),
            "refund_rule": forms.text(form, "refund_rule")[:2000],
            "refund_rule_en": forms.text(form, "refund_rule_en")[:2000],
        }
        changes.save_policy(event_id, data=data, actor=actor_name(user))
    except ServiceError as exc:
        text = f"{gettext('Not saved:', lang)} {staff_message(exc)}"
        return flash_redirect(request, f"/admin/events/{event_id}", text, "error")
    text = gettext("Rules for changes saved.", lang)
    return flash_redirect(request, f"/admin/events/{event_id}", text, "ok")
