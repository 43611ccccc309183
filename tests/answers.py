"""Scripted answers generated from the flow declaration, so adding a question touches no test.

``answers_for`` walks ``REGISTRATION.questions`` in order and answers each with its declared
example, unless the test overrides it. A question with a ``when`` is asked only in some events
(several events open, NIK required): the demo event asks none of them, so they are left out unless
named in ``also``. The phone question depends on the channel: WhatsApp knows the sender's number
(answer "YA"), Telegram has to be told one.
"""

from __future__ import annotations

from typing import Any

from core.enums import Channel
from flows.registration import REGISTRATION
from flows.spec import Flow

KNOWN, TYPED = "known", "typed"


def answers_for(
    channel: Channel | str = Channel.WHATSAPP,
    phone_mode: str | None = None,
    *,
    also: tuple[str, ...] = (),
    flow: Flow = REGISTRATION,
    **overrides: Any,
) -> list[str]:
    """The answers to every question asked, in flow order (no start command, no final YA)."""
    mode = phone_mode or (TYPED if str(Channel(channel).value) == "telegram" else KNOWN)
    answers = []
    for step in flow.questions:
        if step.when is not None and step.key not in also and step.key not in overrides:
            continue
        if step.key in overrides:
            value = overrides[step.key]
            if value is None:
                continue
        elif step.share_contact and mode == KNOWN:
            value = "YA"  # the number the runner writes from
        else:
            value = step.example
        answers.extend(value if isinstance(value, list) else [value])
    return [str(a) for a in answers]
