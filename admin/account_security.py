"""The account page's security parts: two-factor sign-in (enrol, recovery codes, disable) and the
list of signed-in browsers (sign out one, sign out everywhere else); an admin resets another
staff member's 2FA from the staff settings."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from admin.auth import actor_name, csrf_protect, require_roles, session_token
from admin.i18n import gettext, request_language
from admin.login import account_context
from admin.session import flash_redirect as _flash_redirect
from admin.templating import templates
from core.db import unit_of_work, utcnow
from core.enums import Role
from core.errors import Conflict
from core.models import AdminUser
from core.staff import accounts, sessions, twofactor

router = APIRouter(prefix="/admin")
any_staff = require_roles()
admin_only = require_roles(Role.ADMIN)
ACCOUNT = "/admin/account"


def _(text: str) -> str:
    """Marks an English source string for the catalogue (scripts/admin_po.py); shown translated."""
    return text


def flash_redirect(request: Request, url: str, message: str, kind: str = "ok") -> Response:
    """Flash ``message`` in the staff member's admin language."""
    return _flash_redirect(request, url, gettext(message, request_language(request)), kind)


def _no_store(response: Response) -> Response:
    # Secrets and recovery codes on the page: never kept in a cache or the back button's history.
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/account/2fa", response_class=HTMLResponse)
def enrol_page(request: Request, user: AdminUser = Depends(any_staff)) -> Response:
    if twofactor.is_enabled(user):
        return flash_redirect(request, ACCOUNT, _("Two-factor sign-in is already on."))
    with unit_of_work() as uow:
        enrolment = twofactor.begin(uow.session, user_id=user.id)
    ctx = {"user": user, "secret": enrolment.secret, "qr": twofactor.qr_svg(enrolment.uri),
           "error": None}  # fmt: skip
    return _no_store(templates.TemplateResponse(request, "account_2fa.html", ctx))


@router.post("/account/2fa", dependencies=[Depends(csrf_protect)])
def enrol_confirm(
    request: Request, code: str = Form(""), user: AdminUser = Depends(any_staff)
) -> Response:
    with unit_of_work() as uow:
        codes = twofactor.confirm(uow.session, user_id=user.id, code=code[:20], now=utcnow())
        row = uow.session.get(AdminUser, user.id)
        secret = row.totp_secret if row else None
    if codes is None:
        if not secret:
            return flash_redirect(request, ACCOUNT, _("Two-factor sign-in is already on."))
        ctx = {"user": user, "secret": secret, "error": _("Wrong code."),
               "qr": twofactor.qr_svg(twofactor.uri_for(user.email, secret))}  # fmt: skip
        response = templates.TemplateResponse(request, "account_2fa.html", ctx, status_code=400)
        return _no_store(response)
    return _show_codes(request, user, codes)


def _show_codes(request: Request, user: AdminUser, codes: list[str]) -> Response:
    ctx = {"user": user, "codes": codes}
    return _no_store(templates.TemplateResponse(request, "account_codes.html", ctx))


@router.post("/account/2fa/codes", dependencies=[Depends(csrf_protect)])
def new_codes(
    request: Request, password: str = Form(""), user: AdminUser = Depends(any_staff)
) -> Response:
    if not accounts.verify_password(user.password_hash, password):
        return _account_error(request, user, _("Current password is wrong."))
    try:
        with unit_of_work() as uow:
            codes = twofactor.regenerate_codes(uow.session, user_id=user.id)
    except Conflict:
        return flash_redirect(request, ACCOUNT, _("Two-factor sign-in is off."), "error")
    return _show_codes(request, user, codes)


@router.post("/account/2fa/disable", dependencies=[Depends(csrf_protect)])
def disable(
    request: Request,
    password: str = Form(""),
    code: str = Form(""),
    user: AdminUser = Depends(any_staff),
) -> Response:
    """Turning 2FA off needs both the password and a current code (or a recovery code)."""
    if not accounts.verify_password(user.password_hash, password):
        return _account_error(request, user, _("Current password is wrong."))
    with unit_of_work() as uow:
        outcome = twofactor.check(uow.session, user_id=user.id, code=code[:40], now=utcnow())
    if outcome not in (twofactor.CodeOutcome.OK, twofactor.CodeOutcome.RECOVERY):
        message = _("Too many wrong codes. Wait 15 minutes.")
        return _account_error(request, user, _("Wrong code.") if outcome == "wrong" else message)
    with unit_of_work() as uow:
        twofactor.disable(uow.session, user_id=user.id, actor=actor_name(user))
    return flash_redirect(request, ACCOUNT, _("Two-factor sign-in is off."))


def _account_error(request: Request, user: AdminUser, error: str) -> Response:
    ctx = account_context(request, user, error)
    return templates.TemplateResponse(request, "account.html", ctx, status_code=400)


@router.post("/account/sessions/{session_id}/revoke", dependencies=[Depends(csrf_protect)])
def revoke_one(request: Request, session_id: int, user: AdminUser = Depends(any_staff)) -> Response:
    with unit_of_work() as uow:
        done = sessions.revoke(uow.session, staff_id=user.id, session_id=session_id,
                               actor=actor_name(user), now=utcnow())  # fmt: skip
    if not done:
        return flash_redirect(request, ACCOUNT, _("That session had already ended."), "error")
    return flash_redirect(request, ACCOUNT, _("Signed out there."))


@router.post("/account/sessions/revoke-others", dependencies=[Depends(csrf_protect)])
def revoke_others(request: Request, user: AdminUser = Depends(any_staff)) -> Response:
    with unit_of_work() as uow:
        sessions.revoke_all(uow.session, staff_id=user.id, actor=actor_name(user), now=utcnow(),
                            keep_token=session_token(request))  # fmt: skip
    return flash_redirect(request, ACCOUNT, _("Signed out everywhere else."))


@router.post("/settings/staff/{staff_id}/reset-2fa", dependencies=[Depends(csrf_protect)])
def reset_2fa(request: Request, staff_id: int, user: AdminUser = Depends(admin_only)) -> Response:
    """For a colleague who lost their phone and codes: 2FA off and every session of theirs ended."""
    actor = actor_name(user)
    with unit_of_work() as uow:
        twofactor.disable(uow.session, user_id=staff_id, actor=actor, action="staff.2fa_reset")
        sessions.revoke_all(uow.session, staff_id=staff_id, actor=actor, now=utcnow())
    return flash_redirect(request, "/admin/settings#staff", _("Two-factor sign-in reset."))
