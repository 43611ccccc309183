"""InboundMessage drops U+0000 everywhere (PostgreSQL refuses it); holds_nul is its quick check."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from core.enums import Channel
from core.messages import Attachment, InboundMessage, holds_nul, without_nul

text = st.text(st.sampled_from("ab\x00é\U0001f3c3"), max_size=4)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(text, st.integers()), inner, max_size=3),
    ),
    max_leaves=10,
)


@given(value=values)
def test_holds_nul_says_whether_without_nul_changes_anything(value: Any) -> None:
    assert holds_nul(value) == (repr(without_nul(value)) != repr(value))


@given(raw=values.map(lambda v: {"v": v}), name=text, ref=text)
def test_a_message_keeps_no_nul(raw: dict[str, Any], name: str, ref: str) -> None:
    message = InboundMessage(
        channel=Channel.TELEGRAM,
        external_id="1",
        chat_id="5",
        sender_name=name,
        attachments=(Attachment(kind="photo", ref=ref),),
        raw=raw,
    )
    assert not holds_nul(message.raw) and not holds_nul(message.sender_name)
    assert "\x00" not in message.attachments[0].ref
    assert message.channel is Channel.TELEGRAM
    assert repr(message.raw) == repr(without_nul(raw))
