"""Settings: payment accounts and QRIS, payment rules per event, message templates, check-in PIN, staff
and the staff security rule (admins must use two-factor sign-in)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from admin import forms, uploads
from admin.auth import actor_name, csrf_protect, require_roles
from admin.i18n import _
from admin.session import flash_redirect
from admin.templating import templates
from core import i18n
from core.db import get_sessionmaker, unit_of_work
from core.enums import Role, UniqueCodeMode
from core.errors import ServiceError
from core.events import setup
from core.fulfilment import desks
from core.i18n import LANGUAGES, catalogue
from core.messaging import texts
from core.models import AdminUser, Event, NotificationTemplate, PaymentAccount
from core.payments import accounts as payment_accounts
from core.staff import accounts, policy, twofactor

router = APIRouter(prefix="/admin/settings", dependencies=[Depends(require_roles(Role.ADMIN))])
admin_only = require_roles(Role.ADMIN)


@router.get("", response_class=HTMLResponse)
def settings_page(request: Request) -> Response:
    with get_sessionmaker()() as session:
        ctx = {
            "events": session.scalars(select(Event).order_by(Event.race_date.desc())).all(),
            "accounts": session.scalars(
                select(PaymentAccount).order_by(PaymentAccount.sort_order, PaymentAccount.id)
            ).all(),
            "overrides": session.scalars(
                select(NotificationTemplate).order_by(NotificationTemplate.key)
            ).all(),
            "staff": session.scalars(select(AdminUser).order_by(AdminUser.email)).all(),
            "modes": [m.value for m in UniqueCodeMode],
            "roles": [r.value for r in Role],
            "keys": sorted(catalogue("id")),
            "languages": LANGUAGES,
            "admin_2fa": policy.admin_2fa_rule(session),
        }
        return templates.TemplateResponse(request, "settings.html", ctx)


def _back(
    request: Request, message: str, kind: str = "ok", anchor: str = "", **values: object
) -> Response:
    return flash_redirect(request, f"/admin/settings{anchor}", message, kind, **values)


@router.post("/payment/{event_id}", dependencies=[Depends(csrf_protect)])
async def payment_rules(
    request: Request, event_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    form = await request.form()
    try:
        data: dict[str, Any] = {"unique_code_mode": forms.text(form, "unique_code_mode")}
        for name in setup.PAYMENT_FIELDS[1:]:
            if forms.text(form, name):
                data[name] = forms.integer(form, name)
        with unit_of_work() as uow:
            setup.update_payment_settings(
                uow.session, event_id=event_id, data=data, actor=actor_name(user)
            )
    except (ServiceError, ValueError) as exc:
        return _back(request, _("Not saved: %(why)s"), "error", "#payment", why=exc)
    return _back(request, _("Payment rules saved."), anchor="#payment")


@router.post("/accounts/{account_id}", dependencies=[Depends(csrf_protect)])
async def save_account(
    request: Request, account_id: int, user: AdminUser = Depends(admin_only)
) -> Response:
    """Create (account_id 0) or update a bank / e-wallet / QRIS account; optional QRIS upload."""
    form = await request.form()
    data = {
        "kind": forms.text(form, "kind") or "bank",
        "bank_name": forms.text(form, "bank_name"),
        "account_number": forms.text(form, "account_number"),
        "holder_name": forms.text(form, "holder_name"),
        "active": forms.checkbox(form, "active"),
    }
    upload = form.get("qris")
    try:
        stored = (
            await uploads.store_image(upload, what="QRIS image")
            if isinstance(upload, UploadFile) and upload.filename
            else None
        )
        with unit_of_work() as uow:
            event_id = forms.integer(form, "event_id", required=False)
            account = payment_accounts.save_account(
                uow.session,
                account_id=account_id or None,
                event_id=event_id,
                data=data,
                actor=actor_name(user),
            )
            if stored:
                payment_accounts.set_qris_image(
                    uow.session, account_id=account.id, path=stored, actor=actor_name(user)
                )
    except ServiceError as exc:
        return _back(request, _("Account not saved: %(why)s"), "error", "#accounts", why=exc)
    return _back(request, _("Account saved."), anchor="#accounts")


@router.post("/templates", dependencies=[Depends(csrf_protect)])
def save_template(
    request: Request,
    key: str = Form(...),
    language: str = Form("id"),
    body: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    if key not in catalogue("id") or language not in LANGUAGES:
        return _back(request, _("Unknown message key or language."), "error", "#templates")
    try:
        with unit_of_work() as uow:
            texts.set_template(
                uow.session, key=key, language=language, body=body, actor=actor_name(user)
            )
            uow.on_commit(i18n.invalidate_overrides)  # this process shows the change at once
    except ServiceError as exc:
        return _back(request, _("Message not saved: %(why)s"), "error", "#templates", why=exc)
    return _back(
        request,
        _("Message saved.") if body.strip() else _("Default message restored."),
        anchor="#templates",
    )


@router.post("/checkin-pin/{event_id}", dependencies=[Depends(csrf_protect)])
def checkin_pin(
    request: Request, event_id: int, pin: str = Form(""), user: AdminUser = Depends(admin_only)
) -> Response:
    try:
        with unit_of_work() as uow:
            desks.set_checkin_pin(
                uow.session, event_id=event_id, pin=pin.strip(), actor=actor_name(user)
            )
    except ServiceError as exc:
        return _back(request, f"PIN not saved: {exc}", "error", "#checkin")
    return _back(request, _("Check-in PIN saved (stored hashed)."), anchor="#checkin")


@router.post("/staff", dependencies=[Depends(csrf_protect)])
def add_staff(
    request: Request,
    email: str = Form(...),
    name: str = Form(""),
    role: str = Form(...),
    password: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    if len(password) < accounts.MIN_PASSWORD:
        return _back(
            request,
            _("Give the new staff member a password of at least %(n)s characters."),
            "error",
            "#staff",
            n=accounts.MIN_PASSWORD,
        )
    try:
        with unit_of_work() as uow:
            accounts.create(
                uow.session,
                email=email.strip(),
                password=password,
                role=Role(role),
                name=name.strip(),
                actor=actor_name(user),
            )
    except (ServiceError, ValueError) as exc:
        return _back(request, _("Not added: %(why)s"), "error", "#staff", why=exc)
    return _back(
        request,
        _("Added %(email)s; tell them the password in person and ask them to change it."),
        anchor="#staff",
        email=email,
    )


@router.post("/staff/{user_id}", dependencies=[Depends(csrf_protect)])
def update_staff(
    request: Request,
    user_id: int,
    role: str = Form(...),
    active: str = Form(""),
    user: AdminUser = Depends(admin_only),
) -> Response:
    try:
        with unit_of_work() as uow:
            accounts.update_staff(
                uow.session,
                user_id=user_id,
                role=Role(role),
                active=active == "on",
                actor=actor_name(user),
            )
    except (ServiceError, ValueError) as exc:
        return _back(request, _("Not changed: %(why)s"), "error", "#staff", why=exc)
    return _back(request, _("Staff member updated."), anchor="#staff")


@router.post("/security", dependencies=[Depends(csrf_protect)])
def staff_security(
    request: Request, require_2fa: str = Form(""), user: AdminUser = Depends(admin_only)
) -> Response:
    """Store "admins must use 2FA"; an admin turning it on without 2FA goes straight to enrol."""
    with unit_of_work() as uow:
        rule = policy.set_admin_2fa_required(
            uow.session, on=require_2fa == "on", actor=actor_name(user)
        )
    if rule.required and not twofactor.is_enabled(user):
        return flash_redirect(
            request,
            "/admin/account/2fa",
            _("Admins now need two-factor sign-in: set up yours now."),
        )
    if rule.stored:
        message = _("Two-factor sign-in is now required for admins.")
    else:
        message = _("Two-factor sign-in is no longer required by this setting.")
    return _back(request, message, anchor="#security")
