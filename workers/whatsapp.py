"""WhatsApp Cloud API rules around one send: the 24-hour window, templates, a refused token.

Called by workers.delivery for ``whatsapp_cloud`` rows only; ``retry`` is the dispatcher's
retry-later-and-enqueue, so a row never leaves the usual outbox bookkeeping.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.config import Settings, get_settings
from core.db import unit_of_work, utcnow
from core.messaging import window
from core.models import OutboundMessage, Registration
from core.payments import templates
from workers.ratelimit import Bucket, Buckets

log = logging.getLogger(__name__)

Retry = Callable[[OutboundMessage, float, str], None]

# Meta allows short bursts to one user but about one message every 6 seconds sustained
# (WHATSAPP_PAIR_PER_SECOND).
PAIR_BURST = 10.0
# A refused token does not fix itself: hold every send this long instead of a retry storm.
PAUSE_SECONDS = 900.0

# The pause lives in Redis (every worker process stops, and only the first alerts); this
# process's own copy covers a Redis outage.
PAUSE_KEY = "funrun:whatsapp:paused"
_pause_lock = threading.Lock()
_paused_until = 0.0
_redis_client: list[Any] = []


def _redis() -> Any | None:
    url = get_settings().redis_url
    if not url:
        return None
    with _pause_lock:
        if not _redis_client:
            import redis

            _redis_client.append(redis.Redis.from_url(url))
        return _redis_client[0]


def buckets(settings: Settings, row: OutboundMessage, *, bulk: bool) -> Buckets:
    """The number's throughput (WHATSAPP_MAX_PER_SECOND) and the per-runner pair limit."""
    rate = settings.whatsapp_max_per_second
    reserve = max(1.0, rate * 0.2) if bulk else 0.0
    number = settings.whatsapp_phone_number_id or "default"
    return Buckets(
        overall=Bucket(f"wac:{number}", rate, max(rate, 1 + reserve), reserve),
        chat=Bucket(f"wac:pair:{row.recipient}", settings.whatsapp_pair_per_second, PAIR_BURST),
    )


def plan(
    session: Session,
    settings: Settings,
    row: OutboundMessage,
    *,
    now: datetime,
    force: bool = False,
) -> window.Plan:
    """Free-form inside the window; else the kind's template, else wait (``force``: Meta said 131047)."""
    if not force and window.is_open(session, chat_id=row.recipient, now=now):
        return window.Plan()
    kind = window.kind_of(row)
    name = settings.whatsapp_templates.get(kind or "")
    if kind is None or not name:
        return window.Plan(
            wait_reason=f"outside the 24-hour window, no template for {kind or row.kind}"
        )
    registration = session.get(Registration, row.registration_id) if row.registration_id else None
    if registration is None:
        return window.Plan(wait_reason=f"outside the 24-hour window, {kind} without a registration")
    language = (row.extra or {}).get("lang") or registration.language
    code = settings.whatsapp_template_languages.get(language, language)
    template = {
        "name": name,
        "language": code,
        "params": templates.params(kind, registration, row.text),
    }
    return window.Plan(template=template)


def paused_for() -> float:
    """Seconds left of a pause after a refused token, in any process (0 when sending)."""
    with _pause_lock:
        local = max(0.0, _paused_until - time.monotonic())
    try:
        client = _redis()
        shared = client.pttl(PAUSE_KEY) / 1000.0 if client is not None else 0.0
    except Exception:  # noqa: BLE001  (Redis down: this process's own pause still holds)
        shared = 0.0
    return max(local, shared, 0.0)


def resume() -> None:
    """Lift a pause everywhere (tests; `funrun whatsapp check` after the token is fixed)."""
    global _paused_until
    with _pause_lock:
        _paused_until = 0.0
    try:
        client = _redis()
        if client is not None:
            client.delete(PAUSE_KEY)
    except Exception:  # noqa: BLE001
        log.warning("could not clear the shared WhatsApp pause")


def pause_everywhere(seconds: float = PAUSE_SECONDS) -> bool:
    """Pause every process's Cloud API sends; True for the first pause (the one that alerts)."""
    global _paused_until
    with _pause_lock:
        first = _paused_until <= time.monotonic()
        _paused_until = time.monotonic() + seconds
    try:
        client = _redis()
        if client is not None:
            # SET NX: of several processes refused at once, exactly one is first.
            first = bool(client.set(PAUSE_KEY, "1", px=int(seconds * 1000), nx=True))
            if not first:
                client.pexpire(PAUSE_KEY, int(seconds * 1000))
    except Exception:  # noqa: BLE001
        log.warning("shared WhatsApp pause unavailable; pausing this process only")
    return first


def hold(settings: Settings, row: OutboundMessage, *, retry: Retry) -> bool | None:
    """None: send ``row`` now (``row.extra["template"]`` set outside the window).

    Otherwise the row is not sent: True = it waits for the runner (go on with the next row),
    False = retried later (stop draining this recipient).
    """
    pause = paused_for()
    if pause > 0:
        retry(row, pause, row.error or "whatsapp paused: the token was refused")
        return False
    force = bool((row.extra or {}).get("force_template"))
    with unit_of_work() as uow:
        decision = plan(uow.session, settings, row, now=utcnow(), force=force)
        if decision.wait_reason is not None:
            window.park(uow.session, outbound_id=row.id, reason=decision.wait_reason)
    if decision.wait_reason is not None:
        log.info("outbound %s waits for the runner: %s", row.id, decision.wait_reason)
        return True
    if decision.template is not None:
        row.extra = {**(row.extra or {}), "template": decision.template}
    return None


def outside_window(settings: Settings, row: OutboundMessage, error: str, *, retry: Retry) -> bool:
    """Meta answered 131047: send the kind's template instead, or let the row wait."""
    with unit_of_work() as uow:
        stored = uow.session.get(OutboundMessage, row.id, with_for_update=True)
        if stored is not None:
            stored.extra = {**(stored.extra or {}), "force_template": True}
        decision = plan(uow.session, settings, row, now=utcnow(), force=True)
        if decision.wait_reason is not None:
            window.park(uow.session, outbound_id=row.id, reason=decision.wait_reason)
    if decision.wait_reason is not None:
        return True
    retry(row, 0.0, error)
    return False


def stopped(row: OutboundMessage, error: str, *, retry: Retry) -> bool:
    """Bad token or permission: alert once, pause all Cloud API sends, keep the row queued."""
    if pause_everywhere(PAUSE_SECONDS):
        log.error("WhatsApp Cloud API refused our credentials; sends paused: %s", error)
        with unit_of_work() as uow:
            audit.record(
                uow.session,
                actor="system",
                action="whatsapp.stopped",
                subject_type="outbound_message",
                subject_id=row.id,
                error=error[:500],
            )
    retry(row, PAUSE_SECONDS, error)
    return False
