"""Telegram Bot API calls over httpx: sendMessage, sendPhoto, answerCallbackQuery, file downloads."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from channels.media import DownloadError, TooLarge, stream_to_file
from core.config import Settings
from core.enums import CAPTION_LIMITS, Channel, caption_fits
from core.errors import ChannelError, ChannelPermanent, ChannelRateLimited

BOLD = re.compile(r"\*([^*\n]+)\*")
CALLBACK_DATA_LIMIT = 64


def to_html(text: str) -> str:
    """Turn the catalogue's WhatsApp-style *bold* into <b>; escape every other character."""
    out: list[str] = []
    last = 0
    for match in BOLD.finditer(text):
        out.append(html.escape(text[last : match.start()], quote=False))
        out.append(f"<b>{html.escape(match.group(1), quote=False)}</b>")
        last = match.end()
    out.append(html.escape(text[last:], quote=False))
    return "".join(out)


def reply_markup(choices: Sequence[Mapping[str, Any]], *, inline: bool) -> dict[str, Any]:
    """Choices as an inline keyboard (callback_data=value) or a one-time reply keyboard."""
    if not choices:
        return {"remove_keyboard": True}
    per_row = 3 if all(len(str(c["label"])) <= 12 for c in choices) else 1
    if inline:
        buttons = [
            {"text": str(c["label"]), "callback_data": _callback_data(str(c["value"]))}
            for c in choices
        ]
        return {"inline_keyboard": _rows(buttons, per_row)}
    keys = [
        {"text": str(c["label"]), "request_contact": True}
        if c.get("request_contact")
        else {"text": str(c["label"])}
        for c in choices
    ]
    return {"keyboard": _rows(keys, per_row), "resize_keyboard": True, "one_time_keyboard": True}


def _callback_data(value: str) -> str:
    data = value.encode()[:CALLBACK_DATA_LIMIT]
    return data.decode(errors="ignore")


def _rows(buttons: list[dict[str, Any]], per_row: int) -> list[list[dict[str, Any]]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def _url(settings: Settings, method: str) -> str:
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    return f"{settings.telegram_api_base}/bot{token}/{method}"


def call(
    client: httpx.Client,
    settings: Settings,
    method: str,
    *,
    data: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
) -> Any:
    """Call one Bot API method; return ``result`` or raise a ChannelError subclass."""
    try:
        if files:
            response = client.post(_url(settings, method), data=dict(data or {}), files=files)
        else:
            response = client.post(_url(settings, method), json=dict(data or {}))
    except httpx.HTTPError as exc:
        raise ChannelError(f"telegram {method}: {type(exc).__name__}") from exc
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code == 200 and body.get("ok"):
        return body.get("result")
    raise _error(method, response, body)


def _error(method: str, response: httpx.Response, body: Mapping[str, Any]) -> ChannelError:
    status = response.status_code
    description = f"telegram {method} {status}: {body.get('description', '')}".strip()
    if status == 429:
        params = body.get("parameters") or {}
        retry_after = params.get("retry_after") or response.headers.get("retry-after") or 1
        return ChannelRateLimited(description, retry_after=float(retry_after))
    if status in (400, 403):
        # 403: the runner blocked the bot; 400: chat not found / bad request. Retrying cannot help.
        return ChannelPermanent(description)
    return ChannelError(description)


def send(
    client: httpx.Client,
    settings: Settings,
    *,
    chat_id: str,
    text: str,
    choices: Sequence[Mapping[str, Any]] = (),
    inline: bool = False,
    photo: Path | None = None,
) -> str:
    """Deliver one message (optionally a photo) in one Bot API call; return its message id.

    One call per outbox row, so a retry can only repeat what Telegram may not have accepted.
    core.messaging.outbox splits a photo whose text is too long for a caption into two rows; a row
    written before that (or by another path) gets its caption shortened instead.
    """
    markup = reply_markup(choices, inline=inline)
    if photo is not None:
        caption = to_html(_fit_caption(text))
        fields = {"chat_id": chat_id, "parse_mode": "HTML"}
        if caption:
            fields.update(caption=caption, reply_markup=json.dumps(markup))
        with photo.open("rb") as fh:
            result = call(
                client, settings, "sendPhoto", data=fields, files={"photo": (photo.name, fh)}
            )
        return str(result["message_id"])
    body = to_html(text)
    payload = {"chat_id": chat_id, "text": body, "parse_mode": "HTML", "reply_markup": markup}
    result = call(client, settings, "sendMessage", data=payload)
    return str(result["message_id"])


def _fit_caption(text: str) -> str:
    """``text`` cut (with "…") to Telegram's caption limit when it is longer."""
    if caption_fits(Channel.TELEGRAM, text):
        return text
    cut = text[: CAPTION_LIMITS[Channel.TELEGRAM] - 1]
    while not caption_fits(Channel.TELEGRAM, cut + "…"):
        cut = cut[:-1]
    return cut.rstrip() + "…"


def answer_callback(
    client: httpx.Client, settings: Settings, *, callback_id: str, text: str = ""
) -> str:
    """Stop the button's spinner (every callback query must be answered)."""
    data: dict[str, Any] = {"callback_query_id": callback_id}
    if text:
        data["text"] = text[:200]
    call(client, settings, "answerCallbackQuery", data=data)
    return f"cb:{callback_id}"


def download(
    client: httpx.Client, settings: Settings, *, file_id: str, dest: Path, max_bytes: int
) -> int:
    """getFile, then stream the file to ``dest`` (size-capped); return its size."""
    try:
        info = call(client, settings, "getFile", data={"file_id": file_id})
    except ChannelError as exc:
        # Telegram refuses getFile for files over 20 MB ("file is too big").
        if "too big" in str(exc).lower():
            raise TooLarge(str(exc)) from exc
        raise DownloadError(str(exc)) from exc
    if int(info.get("file_size") or 0) > max_bytes:
        raise TooLarge("file_size over the cap")
    token = settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else ""
    url = f"{settings.telegram_api_base}/file/bot{token}/{info['file_path']}"
    return stream_to_file(client, url, dest, max_bytes=max_bytes)
