"""Staff authentication for every admin and check-in page: session user, roles, CSRF.

Public API (used by admin.checkin too): ``current_staff``, ``require_roles``, ``csrf_token``,
``verify_csrf``, ``csrf_protect``, ``login_session``, ``logout_session``.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from urllib.parse import quote

from fastapi import HTTPException, Request

from admin import session as cookie
from core.db import unit_of_work, utcnow
from core.enums import Role
from core.models import AdminUser
from core.staff import policy, sessions, twofactor

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_USER_KEY = "staff_user"


def current_staff(request: Request) -> AdminUser | None:
    """Return the signed-in, active staff user of this request, or None."""
    if hasattr(request.state, _USER_KEY):
        return getattr(request.state, _USER_KEY)
    user = _load_user(request)
    setattr(request.state, _USER_KEY, user)
    return user


def _load_user(request: Request) -> AdminUser | None:
    data = cookie.get_session(request)
    user_id, token = data.get("uid"), data.get("sid")
    if not isinstance(user_id, int) or not isinstance(token, str):
        return None
    with unit_of_work() as uow:
        user = uow.session.get(AdminUser, user_id)
        if user is None or not user.active:
            return None
        if data.get("pwf") != cookie.password_fingerprint(user.password_hash):
            return None  # password changed since this cookie was issued
        # Signed out there, or "sign out everywhere": the row says so, whatever the cookie holds.
        if sessions.active(uow.session, token=token, staff_id=user_id, now=utcnow()) is None:
            return None
        uow.session.flush()
        uow.session.expunge(user)
    return user


# Pages an admin who must enrol in 2FA may still open (the enrolment itself, sign-out).
ENROL_PATHS = ("/admin/account", "/admin/logout", "/admin/language")
ENROL_URL = "/admin/account/2fa"


def has_role(user: AdminUser, *roles: Role) -> bool:
    """Admins may do everything; others need one of ``roles`` (no roles: any staff)."""
    if not roles:
        return True
    return user.role == Role.ADMIN.value or user.role in {r.value for r in roles}


def wants_json(request: Request) -> bool:
    """True for fetch/XHR callers, who get 401/403 instead of a redirect."""
    accept = request.headers.get("accept", "")
    if request.headers.get("x-requested-with", "").lower() == "xmlhttprequest":
        return True
    return "application/json" in accept and "text/html" not in accept


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/admin/login?next=" + quote(target, safe="")


def require_roles(*roles: Role) -> Callable[[Request], AdminUser]:
    """Build a dependency that returns the staff user or refuses (redirect, 401 or 403)."""

    def dependency(request: Request) -> AdminUser:
        user = current_staff(request)
        if user is None:
            if wants_json(request) or request.method != "GET":
                raise HTTPException(status_code=401, detail="login required")
            raise HTTPException(status_code=303, headers={"Location": login_url(request)})
        if _must_enrol(user) and not request.url.path.startswith(ENROL_PATHS):
            if wants_json(request) or request.method != "GET":
                raise HTTPException(status_code=403, detail="two-factor sign-in required")
            raise HTTPException(status_code=303, headers={"Location": ENROL_URL})
        if not has_role(user, *roles):
            raise HTTPException(status_code=403, detail="your role may not open this page")
        return user

    return dependency


def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating one (also for anonymous visitors)."""
    data = cookie.get_session(request)
    token = data.get("csrf")
    if not isinstance(token, str) or not token:
        token = cookie.new_token()
        data.set(csrf=token)
    return token


def verify_csrf(request: Request, token: str | None) -> None:
    """Raise 403 unless ``token`` equals the session's CSRF token.

    Compared as bytes: compare_digest raises TypeError on non-ASCII str (a 500, found by fuzzing).
    """
    expected = cookie.get_session(request).get("csrf")
    if (
        not token
        or not isinstance(expected, str)
        or not hmac.compare_digest(token.encode(), expected.encode())
    ):
        raise HTTPException(status_code=403, detail="invalid or missing CSRF token")


async def csrf_protect(request: Request) -> None:
    """Dependency for POST routes: the token comes from the form field or the X-CSRF-Token header."""
    token = request.headers.get(CSRF_HEADER)
    if not token:
        content_type = request.headers.get("content-type", "")
        if "form" in content_type:
            form = await request.form()
            value = form.get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
    verify_csrf(request, token)


def _must_enrol(user: AdminUser) -> bool:
    # Only an admin without 2FA can be held, so only they cost the read of the stored rule.
    if not twofactor.must_enrol(user, required=True):
        return False
    with unit_of_work() as uow:
        return policy.admin_2fa_required(uow.session)


def login_session(request: Request, user: AdminUser, token: str | None = None) -> None:
    """Start a fresh cookie for ``user`` naming server-side session ``token`` (new CSRF token: no
    fixation). Without ``token`` the current one is kept (a password change keeps this browser)."""
    data = cookie.get_session(request)
    token = token or data.get("sid")
    data.clear_all()
    data.set(
        uid=user.id,
        sid=token,
        pwf=cookie.password_fingerprint(user.password_hash),
        csrf=cookie.new_token(),
    )
    setattr(request.state, _USER_KEY, user)


def session_token(request: Request) -> str | None:
    """The server-side session the cookie names (None when signed out)."""
    token = cookie.get_session(request).get("sid")
    return token if isinstance(token, str) else None


def logout_session(request: Request) -> None:
    cookie.get_session(request).clear_all()
    setattr(request.state, _USER_KEY, None)


def actor_name(user: AdminUser) -> str:
    """The audit-log actor string for a staff user (their email, as the payments service writes)."""
    return user.email
