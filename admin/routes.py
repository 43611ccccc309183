"""Mount the organiser admin: pages, private media, static files and /metrics."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from admin import (
    account_security,
    audit_page,
    broadcasts_pages,
    changes_pages,
    consent_pages,
    dashboard,
    events_pages,
    exports,
    language,
    login,
    media,
    messages_pages,
    metrics,
    operations,
    pricing_pages,
    privacy_pages,
    questions_pages,
    queue,
    queue_checks,
    race_files_pages,
    refunds_pages,
    registrations,
    session,
    settings_pages,
    start_links,
    statements_pages,
    waitlist_pages,
)
from admin.auth import wants_json
from admin.templating import templates
from core.config import Settings
from core.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter()
for _module in (
    login, language, media, queue, queue_checks, registrations, dashboard, exports, audit_page,
    events_pages, settings_pages, messages_pages, operations, statements_pages, pricing_pages,
    broadcasts_pages, race_files_pages, consent_pages, questions_pages, account_security,
    privacy_pages, start_links, waitlist_pages, changes_pages, refunds_pages,
):  # fmt: skip
    router.include_router(_module.router)


ADMIN_PATHS = ("/admin", "/checkin")


async def _not_found(request: Request, _exc: Exception) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": "not found"}, status_code=404)
    return templates.TemplateResponse(request, "not_found.html", {}, status_code=404)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown admin URLs get the admin's own page; everything else keeps FastAPI's answer."""
    if not isinstance(exc, StarletteHTTPException):  # registered for that class only
        raise exc
    if exc.status_code == 404 and request.url.path.startswith(ADMIN_PATHS):
        return await _not_found(request, exc)
    return await http_exception_handler(request, exc)


def mount(app: FastAPI, settings: Settings) -> None:  # noqa: ARG001  (signature shared with app)
    """Add the admin routers, session and metrics middleware, static files and /metrics."""
    session.install(app)
    metrics.install(app)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.include_router(router)
    app.mount("/admin/static", StaticFiles(directory=STATIC_DIR), name="admin-static")
