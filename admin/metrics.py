"""GET /metrics in Prometheus format: webhook counts and latency, queues, registrations, verification.

Access: with METRICS_TOKEN set, the scraper sends `Authorization: Bearer <token>`; without it, a
production server answers loopback clients only (development and tests answer everyone).
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import reports
from core.config import get_settings
from core.db import get_sessionmaker
from core.models import Registration
from core.payments import review_queue
from workers import broker_ops

# Our own registry: create_app() runs many times in tests, and the default one refuses duplicates.
REGISTRY = CollectorRegistry()
WEBHOOKS = Counter(
    "funrun_webhook_requests",
    "Webhook requests by channel and status",
    ["channel", "status"],
    registry=REGISTRY,
)
WEBHOOK_LATENCY = Histogram(
    "funrun_webhook_latency_seconds", "Webhook handling time", ["channel"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)  # fmt: skip


class StateCollector(Collector):
    """Read queue depth and database numbers at scrape time (no background thread)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "funrun_queue_depth", "Messages waiting per queue", labels=["queue"]
        )
        age = GaugeMetricFamily(
            "funrun_queue_oldest_age_seconds", "Age of the oldest waiting message", labels=["queue"]
        )
        dead = GaugeMetricFamily(
            "funrun_queue_dead_letters", "Dead-lettered messages", labels=["queue"]
        )
        try:
            for stat in broker_ops.queue_stats():
                depth.add_metric([stat.name], stat.depth)
                age.add_metric([stat.name], stat.oldest_age_seconds or 0)
                dead.add_metric([stat.name], stat.dead)
        except Exception:  # noqa: BLE001,S110  (broker down: export what the database knows)
            pass
        yield from (depth, age, dead)
        yield from _database_metrics()


def _database_metrics() -> Iterator[GaugeMetricFamily]:
    regs = GaugeMetricFamily("funrun_registrations", "Registrations by status", labels=["status"])
    waiting = GaugeMetricFamily("funrun_payments_waiting", "Payments waiting for a verifier")
    verify = GaugeMetricFamily("funrun_verification_seconds_avg", "Mean photo-to-decision time")
    failed = GaugeMetricFamily(
        "funrun_outbound_failed", "Failed outbound messages", labels=["channel"]
    )
    with get_sessionmaker()() as session:
        for status, n in session.execute(
            select(Registration.status, func.count()).group_by(Registration.status)
        ):
            regs.add_metric([status], n)
        waiting.add_metric([], review_queue.queue_size(session))
        verify.add_metric([], reports.average_verification_seconds(session, event_id=None) or 0)
        for channel, n in reports.outbound_failures(session).items():
            failed.add_metric([channel], n)
    yield from (regs, waiting, verify, failed)


REGISTRY.register(StateCollector())


class WebhookTimingMiddleware:
    """Count and time /webhooks/ requests; plain ASGI (no per-request task group), others pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/webhooks/"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            channel = _channel(scope["path"])
            _latency(channel).observe(time.perf_counter() - started)
            _requests(channel, status).inc()


# The labelled series, looked up once: labels() takes a lock and builds its key on every call.
@lru_cache(maxsize=16)
def _latency(channel: str) -> Any:
    return WEBHOOK_LATENCY.labels(channel)


@lru_cache(maxsize=256)
def _requests(channel: str, status: int) -> Any:
    return WEBHOOKS.labels(channel, str(status))


def _channel(path: str) -> str:
    parts = path.split("/")
    return parts[2] if len(parts) > 2 and parts[2] in ("telegram", "fonnte") else "other"


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_access(request: Request) -> None:
    """Refuse a scrape that lacks the bearer token (or, without one, comes from off the machine)."""
    settings = get_settings()
    if settings.metrics_token is not None:
        expected = f"Bearer {settings.metrics_token.get_secret_value()}".encode()
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPException(401, "metrics token required", {"WWW-Authenticate": "Bearer"})
        return
    if settings.app_env == "production" and not _is_loopback(
        request.client.host if request.client else None
    ):
        raise HTTPException(403, "set METRICS_TOKEN to scrape /metrics from another host")


def install(app: FastAPI) -> None:
    """Time every /webhooks/ request and serve /metrics."""
    app.add_middleware(WebhookTimingMiddleware)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        check_access(request)
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
