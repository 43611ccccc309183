"""WhatsApp Cloud API sends over httpx: text, interactive list / reply buttons, images, templates.

``POST {WHATSAPP_API_BASE}/{version}/{phone-number-id}/messages`` with the bearer token. Choices of
up to 3 options become reply buttons, 4-10 an interactive list; the body keeps the numbered lines so
a runner can still type "2". Images are uploaded once (``/media``) and sent by media id.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from channels.media import DownloadError, TooLarge, stream_to_file
from core.config import Settings
from core.errors import (
    ChannelError,
    ChannelOutsideWindow,
    ChannelPermanent,
    ChannelRateLimited,
    ChannelStopped,
)
from core.formatting import chat_value
from core.i18n import t

log = logging.getLogger(__name__)

# Meta's limits for interactive messages.
BODY_LIMIT = 1024
BUTTON_TITLE_LIMIT = 20
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
ROW_ID_LIMIT = 200
MAX_BUTTONS = 3
MAX_ROWS = 10
CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096

# Graph error codes, by what we do about them.
RATE_LIMITED = {130429, 131056, 80007, 4, 131048}  # throughput, pair rate, app/WABA limits
OUTSIDE_WINDOW = {131047}
STOPPED = {190, 10, 200, 3, 131005, 131031, 368}  # token, permission, account locked/restricted
PERMANENT = {
    131026,
    131021,
    131030,
    131051,
    131052,
    131053,
    131008,
    131009,
    100,
    132000,
    132001,
    132005,
    132007,
    132012,
    132015,
    132016,
    133010,
}
BACKOFF = {130429: 2.0, 131056: 6.0, 80007: 60.0, 4: 60.0, 131048: 60.0}


def _token(settings: Settings) -> str:
    return settings.whatsapp_token.get_secret_value() if settings.whatsapp_token else ""


def _headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(settings)}"}


def graph_url(settings: Settings, *path: str) -> str:
    return "/".join([settings.whatsapp_api_base, settings.whatsapp_api_version, *path])


# -- payloads (pure) ------------------------------------------------------------------------
def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def offered(choices: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The choices a runner can pick (Telegram's "share contact" has no WhatsApp equivalent)."""
    return [c for c in choices if not c.get("request_contact")]


def numbered_body(text: str, labels: Sequence[str], *, language: str) -> str:
    """The text with "1. …" lines and "tap or reply 1-n": typing a number always works."""
    lines = "\n".join(f"{n}. {chat_value(label)}" for n, label in enumerate(labels, start=1))
    footer = t("channels.choose_or_tap", language, n=len(labels))
    return "\n\n".join(part for part in (text, lines, footer) if part)


def _row(n: int, choice: Mapping[str, Any]) -> dict[str, str]:
    """A list row: "n. head" as the title, the option's detail (after " — ") as description."""
    label = str(choice["label"])
    head, _, detail = label.partition(" — ")
    row = {
        "id": str(choice["value"])[:ROW_ID_LIMIT],
        "title": _cut(f"{n}. {head}", ROW_TITLE_LIMIT),
    }
    if detail:
        row["description"] = _cut(detail, ROW_DESCRIPTION_LIMIT)
    return row


def interactive(
    text: str, choices: Sequence[Mapping[str, Any]], *, language: str
) -> dict[str, Any] | None:
    """Reply buttons (<= 3) or a list (4+) for ``choices``; None when they cannot be shown so.

    A list holds 10 rows: with more choices (the summary's confirm / edit ... / cancel) the first
    nine and the last are rows, so confirming and cancelling are always a tap away; every number
    stays typeable from the body.
    """
    picks = offered(choices)
    if not picks:
        return None
    body = numbered_body(text, [str(c["label"]) for c in picks], language=language)
    if len(body) > BODY_LIMIT:
        return None
    numbered = list(enumerate(picks, start=1))
    if len(picks) <= MAX_BUTTONS:
        return {"type": "button", "body": {"text": body}, "action": {"buttons": _buttons(numbered)}}
    if len(numbered) > MAX_ROWS:
        numbered = numbered[: MAX_ROWS - 1] + numbered[-1:]
    rows = [_row(n, c) for n, c in numbered]
    section = {"title": _cut(t("channels.list_section", language), ROW_TITLE_LIMIT), "rows": rows}
    action = {
        "button": _cut(t("channels.list_button", language), BUTTON_TITLE_LIMIT),
        "sections": [section],
    }
    return {"type": "list", "body": {"text": body}, "action": action}


def _buttons(numbered: Sequence[tuple[int, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    return [
        {
            "type": "reply",
            "reply": {
                "id": str(c["value"])[:ROW_ID_LIMIT],
                # The option's short form ("5K · Rp150.000") when it has one: the body lists it whole.
                "title": _cut(f"{n}. {c.get('short') or c['label']}", BUTTON_TITLE_LIMIT),
            },
        }
        for n, c in numbered
    ]


def message_payload(
    to: str,
    text: str,
    choices: Sequence[Mapping[str, Any]] = (),
    *,
    language: str = "id",
    media_id: str | None = None,
    template: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body of one /messages call."""
    base: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
    }
    if template is not None:
        return {**base, "type": "template", "template": template_object(template, media_id)}
    if media_id is not None:
        image: dict[str, Any] = {"id": media_id}
        if text:
            image["caption"] = _cut(text, CAPTION_LIMIT)
        return {**base, "type": "image", "image": image}
    block = interactive(text, choices, language=language)
    if block is not None:
        return {**base, "type": "interactive", "interactive": block}
    picks = offered(choices)
    body = (
        numbered_body(text, [str(c["label"]) for c in picks], language=language) if picks else text
    )
    return {**base, "type": "text", "text": {"body": _cut(body, TEXT_LIMIT), "preview_url": False}}


def template_object(template: Mapping[str, Any], media_id: str | None) -> dict[str, Any]:
    """``{"name", "language": {"code"}, "components"}`` with body parameters (and image header)."""
    components: list[dict[str, Any]] = []
    if media_id is not None:
        header = {"type": "image", "image": {"id": media_id}}
        components.append({"type": "header", "parameters": [header]})
    params = [{"type": "text", "text": str(p)[:1000]} for p in template.get("params") or ()]
    if params:
        components.append({"type": "body", "parameters": params})
    return {
        "name": str(template["name"]),
        "language": {"code": str(template["language"])},
        "components": components,
    }


# -- calls --------------------------------------------------------------------------------
def send(
    client: httpx.Client,
    settings: Settings,
    *,
    to: str,
    text: str,
    choices: Sequence[Mapping[str, Any]] = (),
    language: str = "id",
    photo: Path | None = None,
    template: Mapping[str, Any] | None = None,
) -> str:
    """Deliver one message (a template when ``template`` is given); return its ``wamid``.

    Raises:
        ChannelRateLimited, ChannelOutsideWindow, ChannelStopped, ChannelPermanent, ChannelError.
    """
    media_id = upload_once(client, settings, photo) if photo is not None else None
    payload = message_payload(
        to, text, choices, language=language, media_id=media_id, template=template
    )
    url = graph_url(settings, settings.whatsapp_phone_number_id or "", "messages")
    body = _call(client, "POST", url, headers=_headers(settings), json=payload)
    messages = body.get("messages") or [{}]
    return str(messages[0].get("id") or "")


_uploads: dict[tuple[str, int, int], str] = {}
_uploads_lock = threading.Lock()


def upload_once(client: httpx.Client, settings: Settings, photo: Path) -> str:
    """Upload ``photo`` to ``/media`` once per file version; return its media id (valid 30 days).

    The QRIS image goes to every runner and a retried ticket is the same file: one upload each.
    """
    stat = photo.stat()
    key = (str(photo), stat.st_size, int(stat.st_mtime_ns))
    with _uploads_lock:
        if key in _uploads:
            return _uploads[key]
    mime = "image/png" if photo.suffix.lower() == ".png" else "image/jpeg"
    url = graph_url(settings, settings.whatsapp_phone_number_id or "", "media")
    with photo.open("rb") as fh:
        body = _call(
            client,
            "POST",
            url,
            headers=_headers(settings),
            data={"messaging_product": "whatsapp", "type": mime},
            files={"file": (photo.name, fh, mime)},
        )
    media_id = str(body.get("id") or "")
    if not media_id:
        raise ChannelError("whatsapp media upload: no id")
    with _uploads_lock:
        _uploads[key] = media_id
    return media_id


def _call(client: httpx.Client, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        response = client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        raise ChannelError(f"whatsapp {method}: {type(exc).__name__}") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if response.status_code == 200 and "error" not in body:
        return body
    raise classify(response.status_code, body, response.headers.get("retry-after"))


def classify(status: int, body: Mapping[str, Any], retry_after: str | None = None) -> ChannelError:
    """Turn a Graph error into the exception class the outbox acts on."""
    error = body.get("error") if isinstance(body.get("error"), Mapping) else {}
    code = int(error.get("code") or 0) if str(error.get("code") or "0").isdecimal() else 0
    title = str((error.get("error_data") or {}).get("details") or error.get("message") or "")
    description = f"whatsapp {status} #{code}: {title}"[:500]
    if code in RATE_LIMITED or (status == 429 and code not in STOPPED):
        wait = (
            float(retry_after)
            if retry_after and retry_after.isdecimal()
            else BACKOFF.get(code, 2.0)
        )
        return ChannelRateLimited(description, retry_after=wait)
    if code in OUTSIDE_WINDOW:
        return ChannelOutsideWindow(description)
    if code in STOPPED or status == 401:
        return ChannelStopped(description)
    if code in PERMANENT or (400 <= status < 500 and code and code not in {131000, 131016, 2, 1}):
        return ChannelPermanent(description)
    return ChannelError(description)  # 5xx, 131000 "something went wrong", 131016, unknown


def download(
    client: httpx.Client, settings: Settings, *, media_id: str, dest: Path, max_bytes: int
) -> int:
    """``GET /{media-id}`` for the short-lived URL, then stream it with the bearer token."""
    try:
        info = _call(client, "GET", graph_url(settings, media_id), headers=_headers(settings))
    except ChannelError as exc:
        raise DownloadError(str(exc)) from exc
    if int(info.get("file_size") or 0) > max_bytes:
        raise TooLarge("file_size over the cap")
    url = str(info.get("url") or "")
    if not url.startswith(("http://", "https://")):
        raise DownloadError("no media url")
    return stream_to_file(client, url, dest, max_bytes=max_bytes, headers=_headers(settings))
