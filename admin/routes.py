"""Mount the organiser admin: pages, private media, static files and /metrics."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from admin import (
    audit_page,
    dashboard,
    events_pages,
    exports,
    login,
    media,
    metrics,
    operations,
    queue,
    queue_checks,
    registrations,
    session,
    settings_pages,
    statements_pages,
)
from admin.auth import wants_json
from core.config import Settings
from core.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter()
for _module in (
    login, media, queue, queue_checks, registrations, dashboard, exports, audit_page, events_pages,
    settings_pages, operations, statements_pages,
):  # fmt: skip
    router.include_router(_module.router)


async def _not_found(request: Request, _exc: Exception) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": "not found"}, status_code=404)
    return HTMLResponse("<h1>Not found</h1><p><a href='/admin/'>Back</a></p>", status_code=404)


def mount(app: FastAPI, settings: Settings) -> None:  # noqa: ARG001  (signature shared with app)
    """Add the admin routers, session and metrics middleware, static files and /metrics."""
    session.install(app)
    metrics.install(app)
    app.add_exception_handler(NotFound, _not_found)
    app.include_router(router)
    app.mount("/admin/static", StaticFiles(directory=STATIC_DIR), name="admin-static")
