"""The dict reading of Telegram updates against python-telegram-bot's (the parse it replaced).

Every update the old parse turned into a message (or ignored) must give the very same result,
raw payload included; where the old parse refused an update as malformed, the new one may refuse
it too or read it (it checks only the objects on its path), but it never raises anything else.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from channels.telegram import inbound
from tests.channels import telegram_ptb_parse
from tests.fuzz.conftest import budget
from tests.fuzz.strategies import fixtures, json_values, mutated

RECEIVED = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)

ids = st.one_of(
    st.integers(-(2**40), 2**40),
    st.sampled_from([0, 2**63 - 1, 2**63, -(2**63), 10**30]),
    st.booleans(),
    st.text(max_size=3),
    st.none(),
)
texts = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["/start", "/start@funrun_bot 10K", "/", "/ ", "/DAFTAR  x ", "  halo  "]),
    st.integers(),
)
dates = st.one_of(
    st.integers(-(10**12), 10**12), st.sampled_from([0, False, True, None, 1.5, "1"]), st.floats()
)
maybe = st.one_of(st.none(), json_values)


def _some(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """An object with each field present (most often) or missing."""
    return {k: draw(v) for k, v in fields.items() if draw(st.integers(0, 5))}


@st.composite
def users(draw: st.DrawFn) -> Any:
    return _some(
        draw,
        {
            "id": ids,
            "is_bot": st.booleans(),
            "first_name": st.one_of(st.text(max_size=8), st.integers(), st.none()),
            "last_name": st.one_of(st.none(), st.text(max_size=8), st.integers()),
        },
    )


@st.composite
def chats(draw: st.DrawFn) -> Any:
    kind = st.sampled_from(["private", "group", "supergroup", "channel", "PRIVATE"])
    return _some(draw, {"id": ids, "type": st.one_of(kind, st.integers(), st.lists(st.none()))})


@st.composite
def photo_sizes(draw: st.DrawFn) -> Any:
    return _some(
        draw,
        {
            "file_id": st.one_of(st.text(max_size=6), st.integers()),
            "file_unique_id": st.one_of(st.text(max_size=6), st.integers()),
            "width": st.integers(0, 4000),
            "height": st.integers(0, 4000),
            "file_size": st.one_of(st.none(), st.integers(0, 10**8), st.text(max_size=3)),
        },
    )


@st.composite
def documents(draw: st.DrawFn) -> Any:
    mime = st.sampled_from(["image/png", "image/jpeg", "application/pdf", "", None, 5])
    return _some(
        draw,
        {
            "file_id": st.text(max_size=6),
            "file_unique_id": st.text(max_size=6),
            "file_name": st.one_of(st.none(), st.text(max_size=6), st.integers()),
            "mime_type": mime,
            "file_size": st.one_of(st.none(), st.integers(0, 10**8)),
        },
    )


@st.composite
def messages(draw: st.DrawFn) -> Any:
    fields: dict[str, st.SearchStrategy[Any]] = {
        "message_id": st.one_of(st.integers(0, 10**6), st.text(max_size=3)),
        "date": dates,
        "chat": st.one_of(chats(), st.none(), st.text(max_size=2)),
        "from": st.one_of(users(), st.none(), st.integers()),
        "text": texts,
    }
    message = _some(draw, fields)
    extra: dict[str, st.SearchStrategy[Any]] = {
        "caption": texts,
        "photo": st.one_of(st.lists(photo_sizes(), max_size=3), st.text(max_size=2), st.none()),
        "document": st.one_of(documents(), st.none(), st.text(max_size=2)),
        "contact": st.fixed_dictionaries(
            {
                "phone_number": st.one_of(st.text(max_size=16), st.integers()),
                "first_name": st.just("A"),
            }
        ),
        "entities": st.lists(st.fixed_dictionaries({"type": st.just("bot_command")}), max_size=1),
        **{kind: st.one_of(st.fixed_dictionaries({}), maybe) for kind in inbound.UNSUPPORTED_KINDS},
    }
    for name in draw(st.lists(st.sampled_from(sorted(extra)), max_size=3, unique=True)):
        message[name] = draw(extra[name])
    return message


@st.composite
def callback_queries(draw: st.DrawFn) -> Any:
    return _some(
        draw,
        {
            "id": st.one_of(st.text(max_size=6), st.integers()),
            "from": st.one_of(users(), st.none()),
            "chat_instance": st.text(max_size=4),
            "message": st.one_of(messages(), st.none()),
            "data": st.one_of(st.none(), st.text(max_size=6), st.integers(), json_values),
        },
    )


@st.composite
def updates(draw: st.DrawFn) -> Any:
    kind = draw(st.sampled_from(["message", "callback_query", "edited_message", "channel_post"]))
    body = callback_queries() if kind == "callback_query" else messages()
    update: dict[str, Any] = {"update_id": draw(ids), kind: draw(st.one_of(body, maybe))}
    if draw(st.booleans()):
        update[draw(st.sampled_from(["message", "my_chat_member", "poll"]))] = draw(maybe)
    return update


def _outcome(parse: Any, payload: Any) -> Any:
    try:
        return parse(copy.deepcopy(payload), received_at=RECEIVED)
    except inbound.MalformedUpdate:
        return "malformed"


def _same(payload: Any) -> None:
    old = _outcome(telegram_ptb_parse.parse, payload)
    new = _outcome(inbound.parse, payload)
    if old == "malformed":
        return  # refused before; may now be read (parse guarantees a well-typed message)
    assert new == old, payload
    if old is not None:
        assert new.raw == old.raw


@budget(300)
@given(payload=st.one_of(updates(), mutated("telegram")))
@example(payload={"update_id": 0, "message": {"message_id": 0, "date": 0}})  # no chat: ignored
def test_same_message_as_python_telegram_bot(payload: Any) -> None:
    _same(payload)


def test_every_fixture_reads_the_same() -> None:
    for payload in fixtures("telegram"):
        assert _outcome(inbound.parse, payload) == _outcome(telegram_ptb_parse.parse, payload)
        _same(payload)


@budget(100)
@given(payload=json_values)
@example(payload={"update_id": 1, "message": []})
def test_any_json_is_a_message_none_or_malformed(payload: Any) -> None:
    _same({"update_id": 1, "message": payload})
    _same({"update_id": 1, "callback_query": payload})
