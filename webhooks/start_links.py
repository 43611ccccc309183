"""GET /go/<slug>[/<CODE>]: the one start link an organiser publishes; 302 to an event number.

Each hit is sent to the event's WhatsApp number with the shortest queue (workers.number_choice),
so a rush spreads over every number instead of landing on one. Cheap per hit: the event is read
once per CACHE_SECONDS per process, the outbox once per snapshot, then one Redis script call.
An unknown slug or category is a friendly page (Indonesian, then English), never an error.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from core.config import get_settings
from core.db import get_sessionmaker
from core.events import numbers
from core.i18n import t
from workers.number_choice import choose_number

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))

CACHE_SECONDS = 10.0
CACHE_MAX = 1000  # slugs remembered (unknown ones too, so a bot trying names costs no queries)
_cache: dict[str, tuple[float, numbers.StartTarget | None]] = {}
_cache_lock = threading.Lock()


def forget() -> None:
    """Drop the cached events (tests; a changed event is otherwise seen within CACHE_SECONDS)."""
    with _cache_lock:
        _cache.clear()


def _target(slug: str) -> numbers.StartTarget | None:
    key = slug.lower()[:100]
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    with get_sessionmaker()() as session:
        found = numbers.start_target(session, key, get_settings())
    with _cache_lock:
        if len(_cache) >= CACHE_MAX:
            _cache.clear()
        _cache[key] = (now, found)
    return found


@router.get("/go/{slug}", include_in_schema=False)
@router.get("/go/{slug}/{code}", include_in_schema=False)
def start_link(request: Request, slug: str, code: str = "") -> Response:
    """Open WhatsApp at the least busy of the event's numbers, with DAFTAR <slug> <code> typed."""
    target = _target(slug)
    code = code.strip().upper()
    if target is None or not target.numbers or (code and code not in target.codes):
        return _not_found(request)
    number = choose_number(target.numbers)
    url = numbers.whatsapp_url(number, target.slug, code or None)
    # Never cached: every hit must be chosen afresh, or one browser/proxy pins runners to a number.
    return RedirectResponse(url or "/", status_code=302, headers={"Cache-Control": "no-store"})


def _not_found(request: Request) -> HTMLResponse:
    texts = {
        lang: {k: t(f"start_link.{k}", lang) for k in ("title", "body")} for lang in ("id", "en")
    }
    return templates.TemplateResponse(
        request,
        "start_link_not_found.html",
        {"texts": texts},
        status_code=404,
        headers={"Cache-Control": "no-store"},
    )
