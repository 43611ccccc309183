"""`funrun chat`: talk to the real conversation engine from a terminal, as a WhatsApp or Telegram runner.

Each line is stored like a webhook delivery (inbox.record_inbound), applied with flows.inbound.apply
(the worker's path: flood control, refusals, then the engine) under the conversation's row lock in
the same transaction, and marked processed, so a running worker never applies it twice.
Replies are printed instead of going to the outbox. `/foto PATH` sends an image; `/keluar` quits.
"""

from __future__ import annotations

import secrets
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import typer
from sqlalchemy import select

from core.config import get_settings
from core.db import unit_of_work, utcnow
from core.enums import Channel
from core.messages import Attachment, InboundMessage, Reply
from core.messaging import inbox
from core.models import Conversation
from flows import inbound, parsers

QUIT = {"/keluar", "/quit", "/exit"}


def build_message(
    channel: Channel, chat_id: str, phone: str | None, text: str, photo: str | None = None
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
        attachments=attachments,
        sent_at=utcnow(),
    )


def exchange(message: InboundMessage) -> list[Reply]:
    """Store one message and apply it synchronously in one transaction; return the replies."""
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
        inbox.mark_processed(session, update, now=now, error=applied.error)
    return applied.replies


def render(reply: Reply, channel: Channel) -> str:
    """Show a reply as the runner would see it (numbered choices, or [buttons] on Telegram)."""
    lines = [reply.text]
    if reply.image_path:
        lines.append(f"[gambar: {reply.image_path}]")
    labels = [
        c.label for c in reply.choices if not c.request_contact or channel is Channel.TELEGRAM
    ]
    if labels and channel is Channel.TELEGRAM:
        lines.append("  ".join(f"[{label}]" for label in labels))
    elif labels:
        lines.append("\n".join(f"{n}. {label}" for n, label in enumerate(labels, start=1)))
    return "\n".join(line for line in lines if line)


def _store_photo(path: str) -> str | None:
    source = Path(path).expanduser()
    if not source.is_file():
        return None
    relative = f"inbound/terminal-{secrets.token_hex(8)}{source.suffix.lower() or '.jpg'}"
    target = Path(get_settings().media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return relative


def _print(replies: Sequence[Reply], channel: Channel) -> None:
    for reply in replies:
        typer.secho("bot ▸ " + render(reply, channel).replace("\n", "\n      "), fg="green")


def run_chat(channel: str = "whatsapp", phone: str = "081234567890") -> None:
    """Read lines from the terminal and print the bot's replies until /keluar or end of input."""
    kind = Channel.TELEGRAM if channel.lower().startswith("t") else Channel.WHATSAPP
    number = parsers.to_e164(phone) or "+6281234567890"
    digits = number.lstrip("+")
    chat_id = digits if kind is Channel.WHATSAPP else f"7{digits[-9:]}"
    typer.echo(f"funrun chat ({kind.value}, {number}). Ketik DAFTAR untuk mulai,")
    typer.echo("/foto PATH untuk mengirim gambar, /keluar untuk berhenti.")
    while True:
        try:
            line = input("anda ▸ ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line.lower() in QUIT:
            break
        photo = None
        if line.lower().startswith(("/foto ", "/photo ")):
            photo = _store_photo(line.split(" ", 1)[1].strip())
            if photo is None:
                typer.echo("(file tidak ditemukan)")
                continue
            line = ""
        if not line and photo is None:
            continue
        _print(exchange(build_message(kind, chat_id, digits, line, photo)), kind)
