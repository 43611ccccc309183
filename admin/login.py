"""Login, logout and password change pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admin.auth import (
    actor_name,
    csrf_protect,
    current_staff,
    login_session,
    logout_session,
    require_roles,
)
from admin.i18n import _
from admin.session import flash_redirect
from admin.templating import templates
from core import audit
from core.db import unit_of_work, utcnow
from core.models import AdminUser
from core.staff import accounts, login

router = APIRouter(prefix="/admin")
any_staff = require_roles()


def safe_next(target: str | None) -> str:
    """Only redirect to our own pages (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/admin/"


def home_for(user: AdminUser) -> str:
    return "/checkin" if user.role == "checkin" else "/admin/"


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "") -> Response:
    user = current_staff(request)
    if user is not None:
        return RedirectResponse(safe_next(next) if next else home_for(user), status_code=303)
    return templates.TemplateResponse(request, "login.html", {"next": next, "error": None})


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login_submit(
    request: Request, email: str = Form(""), password: str = Form(""), next: str = Form("")
) -> Response:
    address = request.client.host if request.client else "unknown"
    with unit_of_work() as uow:
        result = login.log_in(
            uow.session, email=email, password=password, address=address, now=utcnow()
        )
    if result.user is None:
        error, status = _LOGIN_ERRORS[result.outcome]
        ctx = {"next": next, "error": error}
        return templates.TemplateResponse(request, "login.html", ctx, status_code=status)
    login_session(request, result.user)
    return RedirectResponse(safe_next(next) if next else home_for(result.user), status_code=303)


_LOGIN_ERRORS = {
    login.LoginOutcome.THROTTLED: (_("Too many failed attempts. Wait 15 minutes."), 429),
    login.LoginOutcome.WRONG: (_("Wrong email or password."), 401),
}


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    user = current_staff(request)
    if user is not None:
        with unit_of_work() as uow:
            audit.record(uow.session, actor=actor_name(user), action="staff.logout")
    logout_session(request)
    return RedirectResponse("/admin/login", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, user: AdminUser = Depends(any_staff)) -> Response:
    return templates.TemplateResponse(request, "account.html", {"user": user, "error": None})


@router.post("/account/password", dependencies=[Depends(csrf_protect)])
def change_password(
    request: Request,
    current: str = Form(""),
    new: str = Form(""),
    confirm: str = Form(""),
    user: AdminUser = Depends(any_staff),
) -> Response:
    error = _password_problem(user, current, new, confirm)
    if error:
        ctx = {"user": user, "error": error, "min_password": accounts.MIN_PASSWORD}
        return templates.TemplateResponse(request, "account.html", ctx, status_code=400)
    with unit_of_work() as uow:
        row = uow.session.get(AdminUser, user.id)
        assert row is not None
        accounts.set_password(uow.session, user=row, password=new, actor=actor_name(user))
        uow.session.flush()
        uow.session.expunge(row)
    login_session(request, row)  # keep this session, end the others
    return flash_redirect(request, "/admin/account", _("Password changed."))


def _password_problem(user: AdminUser, current: str, new: str, confirm: str) -> str | None:
    if not accounts.verify_password(user.password_hash, current):
        return _("Current password is wrong.")
    if len(new) < accounts.MIN_PASSWORD:
        return _("The new password needs at least %(n)s characters.")
    if new != confirm:
        return _("The two new passwords differ.")
    return None
