"""GET /simulator: a phone-like chat page that talks to the real engine through the webhook path.

Messages are stored with inbox.record_inbound (channel "simulator") and processed by the same worker
as Telegram and WhatsApp; replies are outbox rows with channel "simulator", which the page polls.
Enabled only when settings.simulator_enabled; otherwise every route answers 404.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from channels.media import new_relative_path
from channels.whatsapp.outbound import interactive
from core import media, phones
from core.config import get_settings
from core.db import get_sessionmaker, utcnow
from core.enums import Channel
from core.i18n import LANGUAGES, t
from core.messages import Attachment, Choice, InboundMessage
from core.models import Conversation, InboundUpdate, OutboundMessage
from flows import render
from flows.render import SUMMARY_KIND
from webhooks._common import store

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
DEFAULT_PHONE = "6281234567890"
PREVIEWS = ("whatsapp", "cloud", "telegram")  # how the page shows choices, as that channel would
BUTTON_PREVIEWS = ("cloud", "telegram")


def _enabled() -> None:
    if not get_settings().simulator_enabled:
        raise HTTPException(status_code=404)


def chat_id_for(phone: str | None) -> str:
    """The fake runner's number as digits ("0812…" -> "62812…"); the chat id of the conversation."""
    number = phones.digits(re.sub(r"\D", "", phone or "")[:15])
    return number if len(number) >= 8 else DEFAULT_PHONE


@router.get("/simulator", response_class=HTMLResponse, include_in_schema=False)
def simulator_page(
    request: Request, phone: str = DEFAULT_PHONE, mode: str = Query("", alias="as")
) -> HTMLResponse:
    """The chat page for one fake number, previewed as ``?as=`` whatsapp (Fonnte: numbered text),
    cloud (WhatsApp Cloud API: lists and reply buttons) or telegram (buttons)."""
    _enabled()
    preview = mode if mode in PREVIEWS else "whatsapp"
    ctx = {"phone": chat_id_for(phone), "cloud": preview == "cloud", "mode": preview}
    return templates.TemplateResponse(request, "simulator.html", ctx)


@router.post("/simulator/send", include_in_schema=False)
async def simulator_send(request: Request) -> JSONResponse:
    """Store one message (text and/or image) exactly like a webhook delivery."""
    _enabled()
    form = await request.form()
    chat_id = chat_id_for(str(form.get("phone") or ""))
    text = str(form.get("text") or "").strip()[:4000]
    # A tapped list row or reply button (Cloud API preview): its id, as the webhook would store it.
    choice = str(form.get("choice") or "").strip()[:200] or None
    # What the tapped button said: the runner's bubble shows it (the engine only reads the id).
    label = str(form.get("label") or "").strip()[:200] if choice else ""
    upload = form.get("image")
    attachments: tuple[Attachment, ...] = ()
    if upload is not None and not isinstance(upload, str) and upload.filename:
        attachments = (await _save_upload(upload),)
    if not text and not attachments and not choice:
        return JSONResponse({"ok": False}, status_code=400)
    message = InboundMessage(
        channel=Channel.SIMULATOR,
        external_id=f"sim-{uuid.uuid4().hex}",
        chat_id=chat_id,
        sender_name=None,  # a fake number has no profile name: the welcome greets without one
        phone=chat_id,
        text=text or None,
        choice=choice,
        attachments=attachments,
        sent_at=utcnow(),
        raw={"label": label} if label else {},
    )
    await run_in_threadpool(store, message)
    return JSONResponse({"ok": True})


async def _save_upload(upload: UploadFile) -> Attachment:
    """Keep the upload privately under MEDIA_DIR with a random name (the payments check follows)."""
    settings = get_settings()
    data = await upload.read(settings.download_max_bytes + 1)
    mime = upload.content_type or ""
    if len(data) > settings.download_max_bytes:
        return Attachment(kind="photo", ref="simulator", mime_type=mime, error="too_large")
    relative = new_relative_path(mime)
    target = Path(settings.media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    media.publish(relative, settings)
    return Attachment(
        kind="photo", ref="simulator", mime_type=mime, size=len(data), stored_path=relative
    )


@router.get("/simulator/messages", include_in_schema=False)
def simulator_messages(
    phone: str = DEFAULT_PHONE, mode: str = Query("whatsapp", alias="as")
) -> JSONResponse:
    """The conversation so far: inbound and outbound messages in time order (JSON).

    Outbound items carry ``interactive``: the Cloud API list or reply buttons the same reply
    becomes on the official number (the page shows them with ``?as=cloud``).
    """
    _enabled()
    chat_id = chat_id_for(phone)
    with get_sessionmaker()() as session:
        language = session.scalar(
            select(Conversation.language).where(
                Conversation.channel == Channel.SIMULATOR.value, Conversation.chat_id == chat_id
            )
        )
        items = _inbound(session, chat_id) + _outbound(session, chat_id, language or "id", mode)
    items.sort(key=lambda item: (item["at"], item["order"]))
    return JSONResponse({"messages": items, "language": language or "id"})


def _inbound(session: Any, chat_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(InboundUpdate)
        .where(InboundUpdate.channel == Channel.SIMULATOR.value, InboundUpdate.chat_id == chat_id)
        .order_by(InboundUpdate.id)
    )
    return [
        {
            "dir": "in",
            "text": _inbound_text(row),
            "image": bool(row.message.get("attachments")),
            "thumb": f"/simulator/upload/{row.id}" if _upload_path(row) else None,
            "at": row.received_at.isoformat(),
            "order": row.id,
        }
        for row in rows
    ]


def _inbound_text(row: InboundUpdate) -> str:
    """What the runner's bubble shows: the typed text, or the label of the tapped button."""
    label = (row.payload or {}).get("label") if row.message.get("choice") else None
    return str(row.message.get("text") or label or row.message.get("choice") or "")


def _outbound(session: Any, chat_id: str, language: str, mode: str) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(OutboundMessage)
        .where(
            OutboundMessage.channel == Channel.SIMULATOR.value,
            OutboundMessage.recipient == chat_id,
            OutboundMessage.text != "",
        )
        .order_by(OutboundMessage.id)
    )
    items = []
    for row in rows:
        row_language = _summary_language(row) or language
        choices = _choices_as(row, mode, row_language)
        text = _text_as(row, mode, row_language)
        if mode == "telegram":
            text, choices = _narrow_buttons(text, choices)
        items.append(
            {
                "dir": "out",
                "text": text,
                "choices": [str(c.get("label", "")) for c in choices],
                "values": [str(c.get("value", "")) for c in choices],
                "image": f"/simulator/media/{row.id}" if row.media_path else None,
                "interactive": _preview(row, text, choices, row_language),
                "at": row.created_at.isoformat(),
                "order": row.id,
            }
        )
    return items


def _button_summary(row: OutboundMessage, mode: str) -> bool:
    return row.kind == SUMMARY_KIND and mode in BUTTON_PREVIEWS


def _summary_language(row: OutboundMessage) -> str | None:
    """The language a summary was written in: the one whose numbered-list question ends it."""
    if row.kind != SUMMARY_KIND:
        return None
    for language in LANGUAGES:
        if row.text.endswith(t("flow.summary.question", language)):
            return language
    return None


def _text_as(row: OutboundMessage, mode: str, language: str) -> str:
    """The row's text as the previewed channel gets it: with buttons, the summary ends with the
    compact question (yes / edit / cancel), not "pick the answer to change" meant for a list."""
    listed = t("flow.summary.question", language)
    if not _button_summary(row, mode) or not row.text.endswith(listed):
        return row.text
    return row.text[: -len(listed)] + t("flow.summary.question_compact", language)


def _narrow_buttons(text: str, choices: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """As the Telegram bot sends long options (flows/render): the full lines in the text, short
    labels on the buttons (the page numbers both)."""
    labels = [str(c.get("label", "")) for c in choices]
    if not any(len(label) > render.BUTTON_LABEL_MAX for label in labels):
        return text, choices
    listed = "\n".join(f"{n}. {label}" for n, label in enumerate(labels, 1))
    short = [
        {
            **c,
            "label": render.button_label(
                Choice(str(c.get("label", "")), "", short=str(c.get("short") or ""))
            ),
        }
        for c in choices
    ]
    return f"{text}\n\n{listed}" if text else listed, short


def _choices_as(row: OutboundMessage, mode: str, language: str) -> list[dict[str, Any]]:
    """The row's choices as the previewed channel gets them.

    The simulator's own conversation lists every answer under the summary (as Fonnte WhatsApp
    does); Telegram and the Cloud API get yes / edit / cancel (flows/summary.py), so their
    previews show those three: "edit" sends "ubah", which opens the list of answers.
    """
    choices = [c for c in (row.extra or {}).get("choices", []) if not c.get("request_contact")]
    if not _button_summary(row, mode) or len(choices) < 3:
        return choices
    return [
        {"label": t("flow.summary.confirm_short", language), "value": "1"},
        {"label": t("flow.summary.fields_short", language), "value": "ubah"},
        {"label": t("flow.summary.cancel_short", language), "value": str(len(choices))},
    ]


@router.get("/simulator/media/{outbound_id}", include_in_schema=False)
def simulator_media(outbound_id: int) -> FileResponse:
    """An image the bot sent to a simulator chat (e-ticket, QRIS); nothing else is served."""
    _enabled()
    with get_sessionmaker()() as session:
        row = session.get(OutboundMessage, outbound_id)
        path = row.media_path if row and row.channel == Channel.SIMULATOR.value else None
    target = media.safe_path(path)
    if target is None:
        raise HTTPException(status_code=404)
    return FileResponse(target)


def _upload_path(row: InboundUpdate) -> str | None:
    """Where the image a simulator runner sent is stored (private media, relative path)."""
    for attachment in row.message.get("attachments") or ():
        if attachment.get("stored_path"):
            return str(attachment["stored_path"])
    return None


@router.get("/simulator/upload/{inbound_id}", include_in_schema=False)
def simulator_upload(inbound_id: int) -> FileResponse:
    """The thumbnail of an image sent from a simulator chat; nothing from a real channel."""
    _enabled()
    with get_sessionmaker()() as session:
        row = session.get(InboundUpdate, inbound_id)
        path = _upload_path(row) if row and row.channel == Channel.SIMULATOR.value else None
    target = media.safe_path(path)
    if target is None:
        raise HTTPException(status_code=404)
    return FileResponse(target)


def _preview(
    row: OutboundMessage, text: str, choices: list[dict[str, Any]], language: str
) -> dict[str, Any] | None:
    """The Cloud API list / buttons of a reply, flattened to tappable rows for the page."""
    if row.media_path:
        return None
    block = interactive(text, choices, language=language)
    if block is None:
        return None
    if block["type"] == "button":
        rows = [
            {"id": b["reply"]["id"], "title": b["reply"]["title"]}
            for b in block["action"]["buttons"]
        ]
        return {"type": "button", "body": block["body"]["text"], "rows": rows}
    return {
        "type": "list",
        "body": block["body"]["text"],
        "button": block["action"]["button"],
        "rows": block["action"]["sections"][0]["rows"],
    }
