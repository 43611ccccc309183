"""Login, logout and password change pages."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from admin import session as cookie
from admin.auth import (
    actor_name,
    csrf_protect,
    current_staff,
    login_session,
    logout_session,
    require_roles,
    session_token,
)
from admin.i18n import _
from admin.session import flash_redirect
from admin.templating import templates
from core import audit
from core.db import get_sessionmaker, unit_of_work, utcnow
from core.models import AdminUser
from core.staff import accounts, login, sessions, twofactor

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
    if twofactor.is_enabled(result.user):
        # The password was right; the session starts only once the code is right too.
        pending = {"uid": result.user.id, "at": int(time.time()), "next": next}
        cookie.get_session(request).set(p2fa=pending)
        return RedirectResponse("/admin/login/code", status_code=303)
    return _signed_in(request, result.user, next)


_LOGIN_ERRORS = {
    login.LoginOutcome.THROTTLED: (_("Too many failed attempts. Wait 15 minutes."), 429),
    login.LoginOutcome.WRONG: (_("Wrong email or password."), 401),
}
PENDING_SECONDS = 300  # between the password and the code


def _signed_in(request: Request, user: AdminUser, next: str) -> Response:
    """Record the browser's server-side session and hand out the cookie naming it."""
    address = request.client.host if request.client else ""
    with unit_of_work() as uow:
        row = sessions.start(uow.session, staff_id=user.id, now=utcnow(), address=address,
                             user_agent=request.headers.get("user-agent", ""))  # fmt: skip
        token = row.token
    login_session(request, user, token)
    return RedirectResponse(safe_next(next) if next else home_for(user), status_code=303)


def _pending_user(request: Request) -> tuple[int, str] | None:
    """(staff id, next) of a password accepted in the last 5 minutes and waiting for its code."""
    pending = cookie.get_session(request).get("p2fa")
    if not isinstance(pending, dict) or not isinstance(pending.get("uid"), int):
        return None
    if time.time() - float(pending.get("at") or 0) > PENDING_SECONDS:
        return None
    return pending["uid"], str(pending.get("next") or "")


@router.get("/login/code", response_class=HTMLResponse)
def code_form(request: Request) -> Response:
    if _pending_user(request) is None:
        return RedirectResponse("/admin/login", status_code=303)
    return templates.TemplateResponse(request, "login_code.html", {"error": None})


@router.post("/login/code", dependencies=[Depends(csrf_protect)])
def code_submit(request: Request, code: str = Form("")) -> Response:
    pending = _pending_user(request)
    if pending is None:
        return RedirectResponse("/admin/login", status_code=303)
    user_id, next = pending
    with unit_of_work() as uow:
        outcome = twofactor.check(uow.session, user_id=user_id, code=code[:40], now=utcnow())
        user = uow.session.get(AdminUser, user_id)
        if user is not None:
            uow.session.flush()
            uow.session.expunge(user)
    if outcome in (twofactor.CodeOutcome.OK, twofactor.CodeOutcome.RECOVERY) and user is not None:
        cookie.get_session(request).pop("p2fa", None)
        return _signed_in(request, user, next)
    error, status = _CODE_ERRORS[outcome]
    ctx = {"error": error}
    return templates.TemplateResponse(request, "login_code.html", ctx, status_code=status)


_CODE_ERRORS = {
    twofactor.CodeOutcome.THROTTLED: ("Too many wrong codes. Wait 15 minutes.", 429),
    twofactor.CodeOutcome.WRONG: (
        "Wrong code.",
        401,
    ),  # _("Wrong code.") _("Too many wrong codes. Wait 15 minutes.")
}


@router.post("/logout", dependencies=[Depends(csrf_protect)])
def logout(request: Request) -> Response:
    user = current_staff(request)
    token = session_token(request)
    if user is not None:
        with unit_of_work() as uow:
            if token:
                sessions.end(uow.session, token=token, now=utcnow())
            audit.record(uow.session, actor=actor_name(user), action="staff.logout")
    logout_session(request)
    return RedirectResponse("/admin/login", status_code=303)


@router.get("/account", response_class=HTMLResponse)
def account(request: Request, user: AdminUser = Depends(any_staff)) -> Response:
    return templates.TemplateResponse(request, "account.html", account_context(request, user))


def account_context(request: Request, user: AdminUser, error: str | None = None) -> dict:
    """What the account page shows: the password form, 2FA state and the signed-in browsers."""
    with get_sessionmaker()() as session:
        live = sessions.list_for(session, staff_id=user.id, now=utcnow())
        left = twofactor.recovery_left(session, user_id=user.id)
    return {"user": user, "error": error, "sessions": live, "current": session_token(request),
            "twofa": twofactor.is_enabled(user), "codes_left": left,
            "min_password": accounts.MIN_PASSWORD}  # fmt: skip


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
        ctx = account_context(request, user, error)
        return templates.TemplateResponse(request, "account.html", ctx, status_code=400)
    with unit_of_work() as uow:
        row = uow.session.get(AdminUser, user.id)
        assert row is not None
        accounts.set_password(uow.session, user=row, password=new, actor=actor_name(user))
        sessions.revoke_all(uow.session, staff_id=user.id, actor=actor_name(user), now=utcnow(),
                            keep_token=session_token(request))  # fmt: skip
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
