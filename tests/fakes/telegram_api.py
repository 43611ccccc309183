"""A fake Telegram Bot API (ASGI) that records every call and can be scripted to fail or hold.

Routes: /bot{token}/{method} (JSON, form or multipart bodies, like the real API and PTB send) and
/file/bot{token}/{path} for downloads. Use through the ``fake_telegram`` fixture.
"""

from __future__ import annotations

import asyncio
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

BOT = {"id": 7000000001, "is_bot": True, "first_name": "FunRunBot", "username": "funrun_bot"}


@dataclass
class Call:
    """One recorded request: method name, decoded parameters, uploaded files, arrival time."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None = None


class FakeTelegram:
    """State and ASGI app of the fake Bot API."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.base_url = ""
        self.calls: list[Call] = []
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, content)
        self.blocked: set[str] = set()
        self.webhook: dict[str, Any] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._holds: dict[str, tuple[threading.Event, int]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        self.app = Starlette(
            routes=[
                Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
                Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            ]
        )

    # -- scripting ------------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        status: int = 500,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail with ``status``."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after}",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: chat not found",
            }.get(status, "Internal Server Error")
        with self._lock:
            queue = self._failures.setdefault(method, [])
            queue.extend(_Failure(status, description, retry_after) for _ in range(times))

    def block(self, chat_id: str | int) -> None:
        """The runner blocked the bot: every send to ``chat_id`` answers 403."""
        self.blocked.add(str(chat_id))

    def hold(self, method: str, *, after: int = 0) -> None:
        """Make calls of ``method`` wait (recorded first) until release(); the first ``after`` pass."""
        self._holds[method] = (threading.Event(), after)

    def release(self, method: str) -> None:
        held = self._holds.pop(method, None)
        if held is not None:
            held[0].set()

    def release_all(self) -> None:
        for method in list(self._holds):
            self.release(method)

    def add_file(self, file_id: str, content: bytes, *, file_path: str | None = None) -> None:
        """Register a file for getFile and the download route."""
        self.files[file_id] = (file_path or f"photos/{file_id}.jpg", content)

    # -- inspection -----------------------------------------------------------------------
    def requests(self, method: str | None = None) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if method is None or c.method == method]

    def sent_texts(self, chat_id: str | int) -> list[str]:
        """Texts of sendMessage calls and photo captions to ``chat_id``, in arrival order."""
        return [
            str(c.params.get("text", c.params.get("caption", "")))
            for c in self.requests()
            if c.method in ("sendMessage", "sendPhoto")
            and str(c.params.get("chat_id")) == str(chat_id)
        ]

    def sent_photos(self, chat_id: str | int) -> list[Call]:
        return [
            c for c in self.requests("sendPhoto") if str(c.params.get("chat_id")) == str(chat_id)
        ]

    def wait_for(self, predicate: Callable[[FakeTelegram], bool], timeout: float = 15.0) -> None:
        """Poll until ``predicate(self)`` holds (fails the test after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"fake Telegram: condition not met; calls={self.calls!r}")
            time.sleep(0.02)

    # -- handlers -------------------------------------------------------------------------
    async def _params(self, request: Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        content_type = request.headers.get("content-type", "")
        params: dict[str, Any] = dict(request.query_params)
        files: dict[str, bytes] = {}
        if content_type.startswith("application/json"):
            params.update(json.loads(await request.body() or b"{}"))
        elif content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            form = await request.form()
            for key, value in form.multi_items():
                if isinstance(value, str):
                    params[key] = _maybe_json(value)
                else:
                    files[key] = await value.read()
        return params, files

    async def _method(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.path_params["method"]
        params, files = await self._params(request)
        held = self._holds.get(method)
        with self._lock:
            # Counted only under a hold: a scan per call is quadratic over a benchmark's calls.
            earlier = sum(1 for c in self.calls if c.method == method) if held else 0
            self.calls.append(Call(method, params, files))
            failure = self._failures.get(method, []) and self._failures[method].pop(0)
        if held is not None and earlier >= held[1]:
            await asyncio.to_thread(held[0].wait, 30)
        if failure:
            return _error(failure.status, failure.description, failure.retry_after)
        if str(params.get("chat_id")) in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found: method not found")
        return JSONResponse({"ok": True, "result": handler(params)})

    async def _file(self, request: Request) -> Response:
        if request.path_params["token"] != self.token:
            return Response(status_code=401)
        path = request.path_params["path"]
        for file_path, content in self.files.values():
            if file_path == path:
                return Response(content, media_type="image/jpeg")
        return Response(status_code=404)

    def _message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params.get("chat_id") or 0)
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT,
            **extra,
        }

    def _m_getMe(self, _params: dict[str, Any]) -> Any:
        return BOT

    def _m_sendMessage(self, params: dict[str, Any]) -> Any:
        return self._message(params, text=params.get("text", ""))

    def _m_sendPhoto(self, params: dict[str, Any]) -> Any:
        photo = {"file_id": "sent-photo", "file_unique_id": "sent", "width": 1, "height": 1}
        return self._message(params, photo=[photo], caption=params.get("caption"))

    def _m_answerCallbackQuery(self, _params: dict[str, Any]) -> Any:
        return True

    def _m_getFile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id"))
        path, content = self.files.get(file_id, (f"photos/{file_id}.jpg", b""))
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(content),
            "file_path": path,
        }

    def _m_setWebhook(self, params: dict[str, Any]) -> Any:
        self.webhook = dict(params)
        return True

    def _m_deleteWebhook(self, _params: dict[str, Any]) -> Any:
        self.webhook = {}
        return True

    def _m_getWebhookInfo(self, _params: dict[str, Any]) -> Any:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": 0,
            "max_connections": self.webhook.get("max_connections", 40),
            "allowed_updates": self.webhook.get("allowed_updates", []),
        }


def _maybe_json(value: str) -> Any:
    """Form values of nested objects are JSON strings (reply_markup, allowed_updates)."""
    if value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _error(status: int, description: str, retry_after: int | None = None) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    headers = {}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(body, status_code=status, headers=headers)
