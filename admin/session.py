"""The signed staff session cookie (itsdangerous): user id, password fingerprint and CSRF token.

The cookie is loaded lazily into ``request.state``; the middleware installed by ``install`` writes it
back only when a handler changed it (login, logout, first CSRF token for an anonymous visitor).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from core.config import get_settings

COOKIE_NAME = "funrun_admin"
MAX_AGE = 12 * 3600  # one long verification night, then log in again
_STATE_KEY = "admin_session"


def _serializer() -> URLSafeTimedSerializer:
    secret = get_settings().secret_key.get_secret_value()
    return URLSafeTimedSerializer(secret, salt="funrun.admin.session")


class SessionData(dict[str, Any]):
    """A dict that remembers whether it must be written back to the cookie."""

    dirty: bool = False

    def set(self, **values: Any) -> None:
        self.update(values)
        self.dirty = True

    def clear_all(self) -> None:
        self.clear()
        self.dirty = True


def get_session(request: Request) -> SessionData:
    """Return this request's session data, decoding the cookie on first use."""
    data = getattr(request.state, _STATE_KEY, None)
    if data is None:
        data = SessionData()
        raw = request.cookies.get(COOKIE_NAME)
        if raw:
            try:
                data.update(_serializer().loads(raw, max_age=MAX_AGE))
            except BadSignature:
                data.dirty = True  # replace a forged or expired cookie
        setattr(request.state, _STATE_KEY, data)
    return data


def password_fingerprint(password_hash: str) -> str:
    """A short digest of the hash, so a password change ends every other session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def write_cookie(request: Request, response: Response) -> None:
    """Set (or delete) the cookie when the session changed during this request."""
    data = getattr(request.state, _STATE_KEY, None)
    if data is None or not data.dirty:
        return
    secure = get_settings().secure_cookies
    if not data:
        response.delete_cookie(COOKIE_NAME, path="/", secure=secure, httponly=True, samesite="lax")
        return
    response.set_cookie(
        COOKIE_NAME,
        _serializer().dumps(dict(data)),
        max_age=MAX_AGE,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )


def install(app: FastAPI) -> None:
    """Add the middleware that writes the session cookie back (every path but /webhooks/)."""
    app.add_middleware(SessionCookieMiddleware)


async def _session_cookie(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    write_cookie(request, response)
    return response


class SessionCookieMiddleware:
    """Plain ASGI in front of the cookie writer: webhook requests skip it.

    No webhook reads or writes the staff session, and BaseHTTPMiddleware (a task group and memory
    streams per request) was a quarter of the API's busy time under a webhook burst.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cookie = BaseHTTPMiddleware(app, dispatch=_session_cookie)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/webhooks/"):
            await self.app(scope, receive, send)
            return
        await self.cookie(scope, receive, send)


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """Queue a one-time notice shown on the next page (POST/redirect/GET)."""
    data = get_session(request)
    data.set(flash=[*data.get("flash", []), [kind, message]])


def flash_redirect(
    request: Request, url: str, message: str, kind: str = "ok", **values: object
) -> Response:
    """Flash ``message`` in the staff's language and send the browser to ``url`` (303, GET).

    ``message`` is the English source (marked with ``admin.i18n._`` so the catalogue lists it);
    ``values`` fill its ``%(name)s`` placeholders. A message translated already passes unchanged.
    """
    from admin.i18n import gettext, request_language  # noqa: PLC0415  (i18n -> auth -> session)

    flash(request, gettext(message, request_language(request), **values), kind)
    return RedirectResponse(url, status_code=303)


def pop_flashes(request: Request) -> list[list[str]]:
    data = get_session(request)
    messages = data.get("flash") or []
    if messages:
        data.pop("flash", None)
        data.dirty = True
    return list(messages)
