"""create_app(): the FastAPI application with webhooks, admin, simulator and health checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette._utils import is_async_callable
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
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
    through the 500 handler, every user middleware, in the stack's order (the webhook metrics;
    the session middleware lets them by) and the app's exception handlers. Everything else,
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
        """ServerErrorMiddleware and the user middleware (as build_middleware_stack), no router.

        The exception handlers the router path's ExceptionMiddleware applies (HTTPException by
        status then class, RequestValidationError, app.errors' DataError) answer here too.
        """
        handled = {k: v for k, v in self.exception_handlers.items() if k not in (500, Exception)}
        app: ASGIApp = _EndpointCall(handled)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        handler = self.exception_handlers.get(500) or self.exception_handlers.get(Exception)
        return ServerErrorMiddleware(app, handler=handler, debug=self.debug)


class _EndpointCall:
    """Call scope["endpoint"] and send its response; an exception with a handler gets its answer.

    As Starlette's ExceptionMiddleware, but without wrapping ``send``: the endpoint returns its
    Response before anything is sent, so whatever it raises comes before the response started.
    """

    def __init__(self, handlers: dict[Any, Callable[..., Any]]) -> None:
        self._status = {k: v for k, v in handlers.items() if isinstance(k, int)}
        self._classes = {k: v for k, v in handlers.items() if not isinstance(k, int)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await scope["endpoint"](request=request, **scope["path_params"])
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            if is_async_callable(handler):
                response = await handler(request, exc)
            else:
                response = await run_in_threadpool(handler, request, exc)
        await response(scope, receive, send)

    def _handler(self, exc: Exception) -> Callable[..., Any] | None:
        if isinstance(exc, HTTPException) and exc.status_code in self._status:
            return self._status[exc.status_code]
        return next((self._classes[c] for c in type(exc).__mro__ if c in self._classes), None)


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
