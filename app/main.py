"""create_app(): the FastAPI application with webhooks, admin, simulator and health checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

import admin.checkin
import admin.routes
import webhooks
from app import errors
from core import health
from core.config import Settings, get_settings
from core.db import get_sessionmaker, ping
from core.logging import configure_logging, secret_values


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service; routes read settings through get_settings() at request time."""
    settings = settings or get_settings()
    configure_logging(settings.log_level, secrets=secret_values(settings))

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield

    app = FunrunApp(title="funrun", lifespan=lifespan, docs_url=None, redoc_url=None)
    _mount_routers(app, settings)
    errors.install(app)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    redis_client = _redis_client(settings)

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        reasons = _readiness_problems(redis_client)
        if reasons:
            return JSONResponse({"status": "unavailable", "reasons": reasons}, status_code=503)
        return JSONResponse({"status": "ok"})

    return app


class FunrunApp(FastAPI):
    """FastAPI, with the providers' webhook POSTs dispatched straight to their endpoints.

    Those arrive in bursts (a registration rush) and are answered only after their commit; walking
    the router and FastAPI's per-route machinery (exception middleware, exit stacks, dependency
    solving) cost more than the endpoint itself (bench/webhook_ack.py --profile). They still pass
    through the 500 handler and every user middleware, in the stack's order (the webhook metrics;
    the session middleware lets them by); the endpoints handle their own errors. Everything else,
    and any webhook path with a root path set, takes FastAPI's way.
    """

    _direct_stack: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("root_path"):
            route = webhooks.direct_route(scope["method"], scope["path"])
            if route is not None:
                scope["app"] = self
                scope["endpoint"], scope["path_params"] = route
                if self._direct_stack is None:
                    self._direct_stack = self._build_direct_stack()
                await self._direct_stack(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _build_direct_stack(self) -> ASGIApp:
        """ServerErrorMiddleware and the user middleware (as build_middleware_stack), no router."""
        app: ASGIApp = _call_endpoint
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        handler = self.exception_handlers.get(500) or self.exception_handlers.get(Exception)
        return ServerErrorMiddleware(app, handler=handler, debug=self.debug)


async def _call_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    response = await scope["endpoint"](request=Request(scope, receive), **scope["path_params"])
    await response(scope, receive, send)


def _readiness_problems(redis_client: Any | None) -> list[str]:
    problems: list[str] = []
    try:
        with get_sessionmaker()() as session:
            reason = ping(session)
    except Exception as exc:  # noqa: BLE001
        reason = f"database unreachable: {type(exc).__name__}"
    if reason:
        problems.append(reason)
    broker_up = True
    if redis_client is not None:  # None: the in-process broker, always reachable
        try:
            redis_client.ping()
        except Exception as exc:  # noqa: BLE001
            broker_up = False
            problems.append(f"broker unreachable: {type(exc).__name__}")
    settings = get_settings()
    if broker_up:  # with Redis down its heartbeat cannot be read; the broker reason says enough
        try:
            scheduler = health.scheduler_problem(settings, redis_client)
        except Exception as exc:  # noqa: BLE001
            scheduler = f"scheduler heartbeat unreadable: {type(exc).__name__}"
        problems += [scheduler] if scheduler else []
    media = health.media_problem(settings)
    return problems + ([media] if media else [])


def _redis_client(settings: Settings) -> Any | None:
    """The Redis that this app's settings name (the broker's, in every process)."""
    if not settings.redis_url:
        return None
    import redis

    client = redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=2, socket_timeout=2, retry_on_timeout=False
    )
    return client


def _mount_routers(app: FastAPI, settings: Settings) -> None:
    """Mount every door: the webhooks (and simulator), the admin, the check-in desks."""
    app.include_router(webhooks.router)
    admin.routes.mount(app, settings)
    app.include_router(admin.checkin.router)
