"""A fake Fonnte API (ASGI): POST /send (recorded, scriptable) and public media URLs for inbound images."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


@dataclass
class Sent:
    """One recorded /send request."""

    target: str
    message: str
    params: dict[str, Any]
    authorization: str
    file: bytes | None = None
    filename: str | None = None
    at: float = field(default_factory=time.monotonic)


class FakeFonnte:
    """State and ASGI app of the fake Fonnte API."""

    def __init__(self, token: str, *, max_per_second: float | None = None) -> None:
        self.token = token
        self.device_tokens: set[str] = set()  # more devices' tokens (FONNTE_DEVICES)
        # Optional pace enforcement (benchmarks): over-pace sends are refused and counted.
        self.max_per_second = max_per_second
        self.rejected = 0
        self._bucket = ((max_per_second or 0) * 2 + 1, time.monotonic())
        self.base_url = ""
        self.requests: list[Sent] = []
        self.media: dict[str, bytes] = {}
        self._reasons: list[str] = []
        self._statuses: list[int] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(80367170)
        self.app = Starlette(
            routes=[
                Route("/send", self._send, methods=["POST"]),
                Route("/media/{name}", self._media, methods=["GET"]),
            ]
        )

    def fail_next(self, reason: str = "insufficient quota", *, times: int = 1) -> None:
        """Answer the next ``times`` sends with ``{"status": false, "reason": reason}``."""
        with self._lock:
            self._reasons.extend([reason] * times)

    def fail_http(self, status: int = 500, *, times: int = 1) -> None:
        """Answer the next ``times`` sends with an HTTP error status."""
        with self._lock:
            self._statuses.extend([status] * times)

    def add_media(self, name: str, content: bytes) -> str:
        """Serve ``content`` at a public URL (like Fonnte's attachment links); return it."""
        self.media[name] = content
        return f"{self.base_url}/media/{name}"

    def sent(self, target: str | None = None) -> list[Sent]:
        with self._lock:
            return [s for s in self.requests if target is None or s.target == target]

    def sent_texts(self, target: str) -> list[str]:
        return [s.message for s in self.sent(target)]

    def wait_for(self, predicate: Callable[[FakeFonnte], bool], timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"fake Fonnte: condition not met; sent={self.requests!r}")
            time.sleep(0.02)

    @staticmethod
    async def _params(request: Request) -> tuple[dict[str, Any], bytes | None, str | None]:
        if request.headers.get("content-type", "").startswith("application/json"):
            return json.loads(await request.body() or b"{}"), None, None
        params: dict[str, Any] = {}
        file_bytes = filename = None
        form = await request.form()
        for key, value in form.multi_items():
            if isinstance(value, str):
                params[key] = value
            else:
                file_bytes, filename = await value.read(), value.filename
        return params, file_bytes, filename

    async def _send(self, request: Request) -> Response:
        params, file_bytes, filename = await self._params(request)
        auth = request.headers.get("authorization", "")
        record = Sent(
            target=str(params.get("target", "")),
            message=str(params.get("message", "")),
            params=params,
            authorization=auth,
            file=file_bytes,
            filename=filename,
        )
        with self._lock:
            if self._over_pace():
                self.rejected += 1
                return JSONResponse({"status": False, "reason": "rate limit: device busy"})
            self.requests.append(record)
            status = self._statuses.pop(0) if self._statuses else None
            reason = self._reasons.pop(0) if self._reasons else None
        if status is not None:
            return JSONResponse({"status": False, "reason": "server error"}, status_code=status)
        if auth != self.token and auth not in self.device_tokens:
            return JSONResponse({"status": False, "reason": "token invalid"})
        if reason is not None:
            return JSONResponse({"status": False, "reason": reason, "requestid": 1})
        return JSONResponse(
            {
                "detail": "success! message in queue",
                "id": [str(next(self._ids))],
                "process": "pending",
                "requestid": 2937124,
                "status": True,
                "target": [record.target],
            }
        )

    def _over_pace(self) -> bool:
        """Token bucket at max_per_second (burst 2 s of sends + 1 for network jitter)."""
        if self.max_per_second is None:
            return False
        now = time.monotonic()
        tokens, ts = self._bucket
        burst = self.max_per_second * 2 + 1
        tokens = min(burst, tokens + (now - ts) * self.max_per_second)
        if tokens < 1:
            self._bucket = (tokens, now)
            return True
        self._bucket = (tokens - 1, now)
        return False

    async def _media(self, request: Request) -> Response:
        content = self.media.get(request.path_params["name"])
        if content is None:
            return Response(status_code=404)
        return Response(content, media_type="image/jpeg")
