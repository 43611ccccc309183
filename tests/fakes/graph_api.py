"""A fake Meta Graph API (WhatsApp Cloud API) on loopback, speaking the real endpoints and shapes.

Routes (``{v}`` is any version such as ``v21.0``):

- ``POST /{v}/{phone_number_id}/messages``: text, interactive, image, template sends (recorded)
- ``POST /{v}/{phone_number_id}/media``: multipart upload -> ``{"id": media_id}``
- ``GET /{v}/{media_id}``: media URL + mime type + size (short-lived URL on this server)
- ``GET /media-download/{media_id}``: the bytes, bearer token required (as lookaside.fbsbx.com)
- ``GET /{v}/{phone_number_id}``: display name, quality rating, throughput tier
- ``GET /{v}/{app_id}/subscriptions``: the app's webhook subscriptions (fields)

Every call needs ``Authorization: Bearer <token>`` (else error 190). Pacing is enforced like Meta:
more than ``max_per_second`` sends per number -> HTTP 429 code 130429; more than ``pair_burst``
quick messages to one user -> 131056. Free-form sends to a user in ``closed_windows`` -> 131047.
Use through the ``fake_graph`` fixture; ``inbound``/``status_event``/``sign`` build webhook bodies.
"""

from __future__ import annotations

import hashlib
import hmac
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

PHONE_NUMBER_ID = "106540352242922"
WABA_ID = "102290129340398"
APP_ID = "4470008000000"
DISPLAY_NUMBER = "+62 811-0000-0000"

ERRORS = {
    190: (401, "Invalid OAuth access token - Cannot parse access token"),
    10: (403, "Application does not have permission for this action"),
    130429: (429, "Rate limit hit"),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit"),
    131047: (400, "Re-engagement message"),
    131026: (400, "Message undeliverable"),
    131000: (500, "Something went wrong"),
    100: (400, "Invalid parameter"),
    132001: (404, "Template name does not exist in the translation"),
}


@dataclass
class Sent:
    """One recorded POST /messages body (``type`` is text / interactive / image / template)."""

    to: str
    type: str
    body: dict[str, Any]
    id: str
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """The readable text of the message (body, caption or template name)."""
        if self.type == "text":
            return str(self.body["text"]["body"])
        if self.type == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        if self.type == "image":
            return str(self.body["image"].get("caption", ""))
        return f"template:{self.body['template']['name']}"


class FakeGraph:
    """State and ASGI app of the fake Graph API."""

    def __init__(self, token: str, *, max_per_second: float = 80.0) -> None:
        self.token = token
        self.base_url = ""
        self.max_per_second = max_per_second
        self.pair_burst = 12  # quick messages to one user before 131056 (Meta: short bursts)
        self.pair_per_second = 1 / 6
        self.sent: list[Sent] = []
        self.uploads: dict[str, bytes] = {}
        self.media: dict[str, tuple[bytes, str]] = {}  # inbound media id -> (bytes, mime)
        self.closed_windows: set[str] = set()
        self.quality_rating = "GREEN"
        self.throughput_level = "STANDARD"
        self.subscribed_fields = ["messages"]
        self.rejected = 0  # pacing refusals (130429 / 131056)
        self.attempts = 0  # every POST /messages, refused ones too
        self._failures: list[int] = []
        self._number_bucket = (max_per_second, time.monotonic())
        self._pairs: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/media-download/{media_id}", self._download, methods=["GET"]),
                Route("/{v}/{node}/messages", self._messages, methods=["POST"]),
                Route("/{v}/{node}/media", self._upload, methods=["POST"]),
                Route("/{v}/{node}/subscriptions", self._subscriptions, methods=["GET"]),
                Route("/{v}/{node}", self._node, methods=["GET"]),
            ]
        )

    # -- scripting ------------------------------------------------------------------------
    def fail_next(self, code: int, *, times: int = 1) -> None:
        """Answer the next ``times`` sends with Meta's error ``code`` (see ERRORS)."""
        with self._lock:
            self._failures.extend([code] * times)

    def set_pace(self, per_second: float) -> None:
        """Enforce ``per_second`` sends per number from now on (Meta's throughput tier)."""
        with self._lock:
            self.max_per_second = per_second
            self._number_bucket = (per_second + 2, time.monotonic())

    def add_media(self, content: bytes, mime: str = "image/jpeg") -> str:
        """Hold an inbound image (a runner's photo) under a new media id; return the id."""
        media_id = f"{next(self._ids) + 900000000000000}"
        self.media[media_id] = (content, mime)
        return media_id

    def to(self, wa_id: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.to == wa_id]

    def wait_for(self, predicate: Callable[[FakeGraph], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"fake Graph API: condition not met; sent={self.sent!r}")
            time.sleep(0.02)

    # -- routes ---------------------------------------------------------------------------
    def _authorised(self, request: Request) -> bool:
        return request.headers.get("authorization", "") == f"Bearer {self.token}"

    @staticmethod
    def error(code: int) -> JSONResponse:
        status, message = ERRORS.get(code, (400, "Unknown error"))
        body = {
            "error": {
                "message": f"(#{code}) {message}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": message},
                "fbtrace_id": "AbCdEf123",
            }
        }
        return JSONResponse(body, status_code=status)

    def _paced(self, to: str) -> int | None:
        """Take a token from the number's and the pair's buckets; the error code when empty."""
        now = time.monotonic()
        tokens, ts = self._number_bucket
        # A couple of tokens of slack: requests paced exactly still arrive with network jitter.
        burst = self.max_per_second + 2
        tokens = min(burst, tokens + (now - ts) * self.max_per_second)
        pair, pts = self._pairs.get(to, (self.pair_burst, now))
        pair = min(self.pair_burst, pair + (now - pts) * self.pair_per_second)
        if tokens < 1:
            self._number_bucket = (tokens, now)
            return 130429
        if pair < 1:
            self._pairs[to] = (pair, now)
            return 131056
        self._number_bucket = (tokens - 1, now)
        self._pairs[to] = (pair - 1, now)
        return None

    async def _messages(self, request: Request) -> Response:
        with self._lock:
            self.attempts += 1
        if not self._authorised(request):
            return self.error(190)
        body = json.loads(await request.body() or b"{}")
        to = str(body.get("to", ""))
        kind = str(body.get("type", "text"))
        with self._lock:
            code = self._failures.pop(0) if self._failures else None
            if code is None and kind != "template" and to in self.closed_windows:
                code = 131047
            if code is None:
                code = self._paced(to)
            if code is not None:
                self.rejected += code in (130429, 131056)
                return self.error(code)
            wamid = f"wamid.HBgN{next(self._ids):012d}"
            self.sent.append(Sent(to=to, type=kind, body=body, id=wamid))
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    async def _upload(self, request: Request) -> Response:
        if not self._authorised(request):
            return self.error(190)
        form = await request.form()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or isinstance(upload, str) or not upload:
            return self.error(100)
        media_id = f"{next(self._ids) + 800000000000000}"
        self.uploads[media_id] = await upload.read()
        return JSONResponse({"id": media_id})

    async def _node(self, request: Request) -> Response:
        if not self._authorised(request):
            return self.error(190)
        node = request.path_params["node"]
        if node in self.media:
            content, mime = self.media[node]
            return JSONResponse(
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.base_url}/media-download/{node}",
                    "mime_type": mime,
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "file_size": len(content),
                    "id": node,
                }
            )
        if node == PHONE_NUMBER_ID:
            return JSONResponse(
                {
                    "verified_name": "FunRun Jakarta",
                    "display_phone_number": DISPLAY_NUMBER,
                    "quality_rating": self.quality_rating,
                    "throughput": {"level": self.throughput_level},
                    "id": PHONE_NUMBER_ID,
                }
            )
        return self.error(100)

    async def _download(self, request: Request) -> Response:
        if not self._authorised(request):
            return Response(status_code=401)
        item = self.media.get(request.path_params["media_id"])
        if item is None:
            return Response(status_code=404)
        return Response(item[0], media_type=item[1])

    async def _subscriptions(self, request: Request) -> Response:
        if request.query_params.get("access_token", "").count("|") != 1:
            return self.error(190)
        fields = [{"name": name, "version": "v21.0"} for name in self.subscribed_fields]
        return JSONResponse(
            {
                "data": [
                    {
                        "object": "whatsapp_business_account",
                        "callback_url": "https://funrun.example/webhooks/whatsapp",
                        "active": True,
                        "fields": fields,
                    }
                ]
            }
        )


# -- webhook bodies (what Meta POSTs to /webhooks/whatsapp) -------------------------------------
def envelope(*values: dict[str, Any]) -> dict[str, Any]:
    """One webhook body: an entry with one ``messages`` change per value."""
    changes = [{"value": value, "field": "messages"} for value in values]
    return {"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "changes": changes}]}


def _metadata() -> dict[str, str]:
    return {"display_phone_number": "6281100000000", "phone_number_id": PHONE_NUMBER_ID}


def inbound(*messages: dict[str, Any], names: dict[str, str] | None = None) -> dict[str, Any]:
    """A batch of runners' messages (each a Meta message object with ``from``) in one value."""
    senders = dict.fromkeys(m["from"] for m in messages)
    contacts = [{"profile": {"name": (names or {}).get(s, "Runner")}, "wa_id": s} for s in senders]
    return envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": _metadata(),
            "contacts": contacts,
            "messages": list(messages),
        }
    )


def text_message(wamid: str, sender: str, body: str, *, ts: int | None = None) -> dict[str, Any]:
    return {
        "from": sender,
        "id": wamid,
        "timestamp": str(ts or int(time.time())),
        "type": "text",
        "text": {"body": body},
    }


def reply_message(wamid: str, sender: str, reply_id: str, title: str) -> dict[str, Any]:
    """A tap on a list row (ids of 4+ choices) or a reply button."""
    return {
        "from": sender,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "interactive",
        "interactive": {"type": "list_reply", "list_reply": {"id": reply_id, "title": title}},
    }


def image_message(wamid: str, sender: str, media_id: str, caption: str = "") -> dict[str, Any]:
    image: dict[str, Any] = {"mime_type": "image/jpeg", "sha256": "x", "id": media_id}
    if caption:
        image["caption"] = caption
    return {
        "from": sender,
        "id": wamid,
        "timestamp": str(int(time.time())),
        "type": "image",
        "image": image,
    }


def status_event(wamid: str, recipient: str, status: str, **error: Any) -> dict[str, Any]:
    """A statuses[] delivery report; ``code``/``title`` make a failed one."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if error:
        item["errors"] = [{"code": error.get("code", 131026), "title": error.get("title", "")}]
    return envelope({"messaging_product": "whatsapp", "metadata": _metadata(), "statuses": [item]})


def sign(body: bytes, app_secret: str) -> str:
    """The X-Hub-Signature-256 header Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
