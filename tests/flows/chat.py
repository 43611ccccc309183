"""A test driver: a runner chatting with the engine through the same path the worker takes."""

from __future__ import annotations

import io
import secrets
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import get_settings
from core.db import utcnow
from core.enums import Channel
from core.messages import Attachment, InboundMessage, Reply
from core.messaging import inbox
from core.models import Conversation
from flows import inbound
from flows.registration import REGISTRATION

# The declared examples answer every question (tests/answers.py); this driver's runner picks 10K.
DEFAULTS = {"category": "10K", "phone": "ya"}


def make_photo(size: tuple[int, int] = (40, 30)) -> str:
    """Write a small PNG under MEDIA_DIR, as the channel layer would; return its relative path."""
    relative = f"inbound/test-{secrets.token_hex(6)}.png"
    target = Path(get_settings().media_dir) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    target.write_bytes(buffer.getvalue())
    return relative


class Chat:
    """One runner in one chat; ``send`` returns the replies the engine produced."""

    def __init__(
        self, session: Session, channel: Channel = Channel.WHATSAPP, chat_id: str | None = None
    ) -> None:
        self.session = session
        self.channel = channel
        digits = "62812" + str(uuid.uuid4().int)[:8]
        self.phone = digits if channel is not Channel.TELEGRAM else None
        self.chat_id = chat_id or (digits if channel is not Channel.TELEGRAM else digits[-9:])
        self.email = f"runner{uuid.uuid4().hex[:10]}@example.com"
        self.now: datetime = utcnow()
        self.last: list[Reply] = []
        self.error: str | None = None  # why the last message was refused (flood, too_large, …)

    def message(self, text: str | None = None, **fields: object) -> InboundMessage:
        return InboundMessage(
            channel=self.channel,
            external_id=uuid.uuid4().hex,
            chat_id=self.chat_id,
            sender_name="Siti",
            phone=fields.pop("phone", self.phone),  # type: ignore[arg-type]
            text=text,
            sent_at=self.now,
            **fields,  # type: ignore[arg-type]
        )

    def send(self, text: str | None = None, **fields: object) -> list[Reply]:
        message = self.message(text, **fields)
        update = inbox.record_inbound(self.session, message)
        assert update is not None
        conversation = self.session.scalars(
            select(Conversation).where(Conversation.id == update.conversation_id).with_for_update()
        ).one()
        # The worker's path: flood control and refusals first, then the engine.
        applied = inbound.apply(
            self.session, conversation, message, received_at=self.now, now=self.now
        )
        assert applied.error != "engine_error", "the engine raised: see the log above"
        self.last = applied.replies
        self.error = applied.error
        inbox.mark_processed(self.session, update, now=self.now, error=applied.error)
        self.session.flush()
        self.now += timedelta(seconds=5)
        return self.last

    def photo(self, path: str | None = None) -> list[Reply]:
        stored = path or make_photo()
        attachment = Attachment(kind="photo", ref="x", unique_ref=None, stored_path=stored)
        return self.send(None, attachments=(attachment,))

    @property
    def conversation(self) -> Conversation:
        return self.session.scalars(
            select(Conversation).where(
                Conversation.channel == self.channel.value, Conversation.chat_id == self.chat_id
            )
        ).one()

    @property
    def state(self) -> str:
        return self.conversation.state

    def text(self) -> str:
        return "\n".join(r.text for r in self.last)

    def values(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        """A valid answer for every declared question: its example, this runner's own email."""
        examples = {step.key: step.example for step in REGISTRATION.questions}
        return {**examples, **DEFAULTS, "email": self.email, **(overrides or {})}

    def answer_until(self, stop: str, overrides: dict[str, str] | None = None) -> None:
        """Answer each question with a valid example until the conversation reaches ``stop``."""
        values = self.values(overrides)
        if self.channel is Channel.TELEGRAM:
            values.setdefault("phone", "0812" + str(uuid.uuid4().int)[:8])
            if values["phone"] == "ya":
                values["phone"] = "0812" + str(uuid.uuid4().int)[:8]
        for _ in range(len(REGISTRATION.steps) + 2):
            if self.state == stop:
                return
            self.send(values.get(self.state) or "1")
        raise AssertionError(f"never reached {stop}; stuck at {self.state}: {self.text()}")

    def register(self, overrides: dict[str, str] | None = None, command: str = "DAFTAR") -> str:
        """Run a whole registration; return the confirmation text."""
        self.send(command)
        self.answer_until("confirm", overrides)
        self.send("YA")
        return self.text()
