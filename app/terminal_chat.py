"""`funrun chat`: talk to the real conversation engine from a terminal, as a WhatsApp or Telegram runner.

Each line is stored like a webhook delivery (inbox.record_inbound), applied with flows.inbound.apply
(the worker's path: flood control, refusals, then the engine) under the conversation's row lock in
the same transaction, and marked processed, so a running worker never applies it twice.
Replies are written to the outbox like every channel's (so the admin's conversation view has them)
and marked sent at once: the terminal is the runner's phone, it prints them. `/foto PATH` sends an
image; `/keluar` quits. The terminal's own words follow the chat's language (BAHASA / LANGUAGE).
Proactive messages for this chat (payment approved, part payment, the e-ticket) are outbox rows: a
background thread polls them every second, prints them and marks them sent, as the runner's phone.
As a Cloud API runner (`--channel cloud`) lists and reply buttons show as rows; `/tap N` taps row N.
"""

from __future__ import annotations

import secrets
import shutil
import threading
import uuid
from collections.abc import Sequence
from pathlib import Path

import typer
from sqlalchemy import select

from channels.whatsapp.outbound import interactive
from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.enums import Channel, OutboundStatus
from core.messages import Attachment, Choice, InboundMessage, Reply
from core.messaging import inbox, outbox
from core.models import Conversation, OutboundMessage
from flows import inbound, parsers

QUIT = {"/keluar", "/quit", "/exit"}
# The terminal's own words, in the chat's language.
WORDS = {
    "id": {
        "banner": "funrun chat ({channel}, {number}). Ketik DAFTAR untuk mulai,\n"
        "/foto PATH untuk mengirim gambar, /keluar untuk berhenti.",
        "prompt": "anda ▸ ",
        "tap_hint": "(/tap N untuk mengetuk baris N)",
        "image": "gambar",
        "no_row": "(tidak ada baris itu)",
        "no_file": "(file tidak ditemukan)",
    },
    "en": {
        "banner": "funrun chat ({channel}, {number}). Type REGISTER to start,\n"
        "/photo PATH to send an image, /quit to stop.",
        "prompt": "you ▸ ",
        "tap_hint": "(/tap N to tap row N)",
        "image": "image",
        "no_row": "(there is no such row)",
        "no_file": "(file not found)",
    },
}
POLL_SECONDS = 1.0
# Rows the terminal delivers: waiting for a worker, given up, or held for the 24-hour window.
UNDELIVERED = (
    OutboundStatus.PENDING.value,
    OutboundStatus.FAILED.value,
    OutboundStatus.WAITING.value,
)


def build_message(
    channel: Channel,
    chat_id: str,
    phone: str | None,
    text: str,
    photo: str | None = None,
    choice: str | None = None,
) -> InboundMessage:
    """An InboundMessage shaped as the channel adapter would build it."""
    command = arg = None
    if channel is Channel.TELEGRAM and text.startswith("/"):
        head, _, rest = text[1:].partition(" ")
        command, arg = head.lower(), rest.strip() or None
    attachments = (Attachment(kind="photo", ref=photo, stored_path=photo),) if photo else ()
    return InboundMessage(
        channel=channel,
        external_id=f"term-{uuid.uuid4().hex}",
        chat_id=chat_id,
        sender_name=None,  # no profile name: the welcome greets without one
        phone=phone if channel is not Channel.TELEGRAM else None,
        text=text or None,
        command=command,
        command_arg=arg,
        choice=choice,
        attachments=attachments,
        sent_at=utcnow(),
    )


def chat_language(channel: Channel, chat_id: str) -> str:
    """The chat's current language ("id" until the runner switches, or before the first message)."""
    with unit_of_work() as uow:
        language = uow.session.scalar(
            select(Conversation.language).where(
                Conversation.channel == channel.value, Conversation.chat_id == chat_id
            )
        )
    return language if language in WORDS else "id"


def word(name: str, language: str) -> str:
    return WORDS.get(language, WORDS["id"])[name]


def exchange(message: InboundMessage) -> list[Reply]:
    """Store one message and apply it synchronously in one transaction; return the replies.

    The replies are outbox rows as on every channel, marked sent here: the caller prints them.
    """
    now = utcnow()
    with unit_of_work() as uow:
        session = uow.session
        update = inbox.record_inbound(session, message)
        if update is None:
            return []
        conversation = session.scalars(
            select(Conversation).where(Conversation.id == update.conversation_id).with_for_update()
        ).one()
        applied = inbound.apply(
            session, conversation, message, received_at=update.received_at, now=now
        )
        for row in inbound.queue(session, conversation, applied, update_id=update.id):
            outbox.mark_sent(
                session, outbound_id=row.id, provider_message_id=f"terminal-{row.id}", now=now
            )
        inbox.mark_processed(session, update, now=now, error=applied.error)
    return applied.replies


def cloud_rows(reply: Reply, language: str = "id") -> list[tuple[str, str]]:
    """(id, shown row) of the Cloud API list or reply buttons a reply becomes; [] for plain text."""
    choices = [
        {"label": c.label, "value": c.value, "request_contact": c.request_contact}
        for c in reply.choices
    ]
    block = None if reply.image_path else interactive(reply.text, choices, language=language)
    if block is None:
        return []
    if block["type"] == "button":
        return [
            (b["reply"]["id"], f"( {b['reply']['title']} )") for b in block["action"]["buttons"]
        ]
    rows = block["action"]["sections"][0]["rows"]
    return [
        (r["id"], f"☰ {r['title']}" + (f" · {r['description']}" if r.get("description") else ""))
        for r in rows
    ]


def render(reply: Reply, channel: Channel, language: str = "id") -> str:
    """Show a reply as the runner would see it (numbered choices, [buttons] on Telegram, rows on Cloud)."""
    rows = cloud_rows(reply, language) if channel is Channel.WHATSAPP_CLOUD else []
    if rows:
        return "\n".join([reply.text, *(row for _, row in rows), word("tap_hint", language)])
    lines = [reply.text]
    if reply.image_path:
        lines.append(f"[{word('image', language)}: {reply.image_path}]")
    labels = [
        c.label for c in reply.choices if not c.request_contact or channel is Channel.TELEGRAM
    ]
    if labels and channel is Channel.TELEGRAM:
        lines.append("  ".join(f"[{label}]" for label in labels))
    elif labels:
        lines.append("\n".join(f"{n}. {label}" for n, label in enumerate(labels, start=1)))
    return "\n".join(line for line in lines if line)


def _as_reply(row: OutboundMessage) -> Reply:
    choices = tuple(
        Choice(str(c.get("label", "")), str(c.get("value", "")), bool(c.get("request_contact")))
        for c in (row.extra or {}).get("choices") or ()
    )
    return Reply(row.text, choices=choices, image_path=row.media_path, kind=row.kind)


def deliver_proactive(channel: Channel, chat_id: str) -> list[Reply]:
    """Take this chat's undelivered outbox rows (oldest first), mark them sent; return them.

    The terminal is the runner's phone: what a worker would send to the provider is shown here
    instead (a row a worker is sending right now is skipped and left to it).
    """
    now = utcnow()
    with unit_of_work() as uow:
        rows = uow.session.scalars(
            select(OutboundMessage)
            .where(
                OutboundMessage.channel == channel.value,
                OutboundMessage.recipient == chat_id,
                OutboundMessage.status.in_(UNDELIVERED),
            )
            .order_by(OutboundMessage.id)
            .with_for_update(skip_locked=True)
        ).all()
        for row in rows:
            row.status = OutboundStatus.SENT.value
            row.provider_message_id = f"terminal-{row.id}"
            row.sent_at = now
            row.error = row.next_attempt_at = None
        replies = [_as_reply(row) for row in rows if row.text or row.media_path]
    return replies


def _poll(channel: Channel, chat_id: str, stop: threading.Event) -> None:
    """Print proactive messages as they arrive, until ``stop`` is set."""
    while not stop.wait(POLL_SECONDS):
        try:
            replies = deliver_proactive(channel, chat_id)
        except Exception as err:  # noqa: BLE001 (a database hiccup must not end the chat)
            typer.echo(f"(outbox: {type(err).__name__})")
            continue
        if replies:
            typer.echo("")
            _print(replies, channel, chat_id)
            typer.echo(word("prompt", chat_language(channel, chat_id)), nl=False)


def _store_photo(path: str) -> str | None:
    source = Path(path).expanduser()
    if not source.is_file():
        return None
    relative = f"inbound/terminal-{secrets.token_hex(8)}{source.suffix.lower() or '.jpg'}"
    target = Path(get_settings().media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return relative


def _print(replies: Sequence[Reply], channel: Channel, chat_id: str) -> list[str]:
    """Print the replies; return the row ids a `/tap N` may pick (the last list or buttons)."""
    taps: list[str] = []
    language = chat_language(channel, chat_id) if replies else "id"
    for reply in replies:
        shown = render(reply, channel, language)
        typer.secho("bot ▸ " + shown.replace("\n", "\n      "), fg="green")
        if channel is Channel.WHATSAPP_CLOUD:
            taps = [row_id for row_id, _ in cloud_rows(reply, language)] or taps
    return taps


def channel_of(name: str) -> Channel:
    """ "telegram" / "cloud" (WhatsApp Cloud API) / anything else: WhatsApp via Fonnte."""
    lowered = name.lower()
    if lowered.startswith("t"):
        return Channel.TELEGRAM
    if lowered.startswith("c") or lowered == "whatsapp_cloud":
        return Channel.WHATSAPP_CLOUD
    return Channel.WHATSAPP


def run_chat(channel: str = "whatsapp", phone: str = "081234567890") -> None:
    """Read lines from the terminal and print the bot's replies until /keluar or end of input."""
    kind = channel_of(channel)
    number = parsers.to_e164(phone) or "+6281234567890"
    digits = number.lstrip("+")
    chat_id = f"7{digits[-9:]}" if kind is Channel.TELEGRAM else digits
    banner = word("banner", chat_language(kind, chat_id))
    typer.echo(banner.format(channel=kind.value, number=number))
    _print(deliver_proactive(kind, chat_id), kind, chat_id)  # what arrived while it was closed
    stop = threading.Event()
    poller = threading.Thread(target=_poll, args=(kind, chat_id, stop), daemon=True)
    poller.start()
    try:
        _loop(kind, chat_id, digits)
    finally:
        stop.set()
        poller.join(timeout=5)
        _print(deliver_proactive(kind, chat_id), kind, chat_id)


def _loop(kind: Channel, chat_id: str, digits: str) -> None:
    taps: list[str] = []
    while True:
        language = chat_language(kind, chat_id)
        try:
            line = input(word("prompt", language)).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line.lower() in QUIT:
            break
        photo = choice = None
        if kind is Channel.WHATSAPP_CLOUD and line.lower().startswith("/tap "):
            choice = _tapped(taps, line[5:].strip())
            if choice is None:
                typer.echo(word("no_row", language))
                continue
            line = ""
        if line.lower().startswith(("/foto ", "/photo ")):
            photo = _store_photo(line.split(" ", 1)[1].strip())
            if photo is None:
                typer.echo(word("no_file", language))
                continue
            line = ""
        if not line and photo is None and choice is None:
            continue
        message = build_message(kind, chat_id, digits, line, photo, choice)
        taps = _print(exchange(message), kind, chat_id) or taps


def _tapped(taps: list[str], number: str) -> str | None:
    """The id of row ``number`` (1-based) of the last list or buttons."""
    if not number.isdecimal() or not 1 <= int(number) <= len(taps):
        return None
    return taps[int(number) - 1]
