"""Hypothesis strategies for hostile webhook bodies: raw bytes, odd JSON, mutated real payloads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Every code point, lone surrogates included (they reach us as "\ud800" escapes).
any_text = st.text(st.characters(codec=None, categories=None), max_size=40)
hostile_text = st.one_of(
    any_text,
    st.sampled_from(
        [
            "\u202eevil",
            "a\u200bb",
            "e\u0301\u0301\u0301",
            "\U0001f3c3\u200d\u2640\ufe0f",
            "\x00",
            "",
        ]
    ),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, hostile_text)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def fixtures(channel: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / channel).glob("*.json"))]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON object (for replacing one value at a time)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = dict(value)
    copy[path[0]] = _replace(value[path[0]], path[1:], new)
    return copy


@st.composite
def mutated(draw: st.DrawFn, channel: str) -> dict[str, Any]:
    """A real captured payload with one to three values swapped for hostile ones."""
    body = draw(st.sampled_from(fixtures(channel)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(body)[1:] or [()]))
        body = _replace(body, path, draw(json_values))
    return body


def encode(value: Any) -> bytes:
    """JSON as a careless client writes it: NaN and Infinity allowed, surrogates escaped."""
    return json.dumps(value, allow_nan=True).encode()


@st.composite
def deep(draw: st.DrawFn) -> bytes:
    depth = draw(st.integers(min_value=1, max_value=3_000))
    opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
    return opener * depth + (b"1" + closer * depth if draw(st.booleans()) else b"")


def bodies(channel: str) -> st.SearchStrategy[bytes]:
    """Raw bytes, broken JSON, deep nesting, arbitrary JSON and mutated real payloads."""
    return st.one_of(
        st.binary(max_size=200),
        deep(),
        json_values.map(encode),
        mutated(channel).map(encode),
        mutated(channel).map(lambda b: encode(b)[: len(encode(b)) // 2]),
    )


# The two shapes Python's json recursion limit trips on (each was a 500); checked every run.
VERY_DEEP = (b"[" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
