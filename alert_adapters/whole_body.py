"""Validating a whole Alertmanager-shaped body in one pydantic-core pass (the fast path).

The careful path (json_document.decode_document, then alert_body's checks per alert)
decodes with a Python hook per JSON object and checks every string in Python. Most
bodies break no rule, so the adapters first validate the raw bytes in one
`TypeAdapter.validate_json` call against a schema that carries the limits itself, and
take the careful path only when that fails: the careful path alone says what is wrong, so
errors stay exactly as they were. A body the fast path accepts is one the careful path
accepts with the same result; what the schema cannot see is read from the raw bytes:

- Strict types and `extra="forbid"` (the fields senders are known to add are listed):
  every value is typed, so nothing nests deeper than the schema, and NaN, Infinity and
  huge integers (which pydantic's parser accepts in untyped places) cannot slip through.
- Duplicate keys (pydantic's parser keeps the last): the number of `":` in the bytes
  bounds the key-value pairs the parser read (read_raw_facts says how); the adapter
  counts the pairs the result holds, and equal counts mean no key was repeated.
- NUL and lone surrogates: no `\\u0000` or `\\ud...` escape in the body.
- Sizes are UTF-8 bytes, the schema counts characters: when the body is ASCII and escapes
  only ASCII characters the two agree; otherwise the schema allows a quarter of each limit
  in characters (at most four bytes each), and longer strings take the careful path.

Dense hostile bodies (a million `{}`) never come here: pydantic builds every error before
it stops, so the caller sends them to the careful path, which caps errors as it goes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, NamedTuple, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from pydantic.types import FailFast
from typing_extensions import TypedDict

from alert_adapters.limits import MAX_MAP_ENTRIES

# Strict, and every field named: an unknown one sends the body to the careful path.
# Only keys are cached: a storm's 10,000 distinct values would otherwise stay resident
# in the parsing worker after the body is gone.
FAST_CONFIG = ConfigDict(strict=True, extra="forbid", cache_strings="keys")
# Characters per byte of a limit: exact for ASCII text, and the worst case of UTF-8.
EXACT, LOOSE = 1, 4
# Whitespace JSON allows between tokens: removed before counting `":`.
_WHITESPACE = b" \t\n\r"
# Escapes that make the raw-byte reasoning unsound (NUL, surrogates, a quote before a
# colon), and those of characters past ASCII; both are rare in real bodies.
_UNCLEAR = re.compile(rb'\\(?:u0000|u[dD]|":)')
_NOTABLE = re.compile(rb'\\(?:u(?:0000|(?!00[0-7]))|":)')  # either of the two


class RawFacts(NamedTuple):
    """What the fast path reads from the raw bytes of a body."""

    scale: int  # EXACT or LOOSE: which schema's limits are sound for this body
    quote_colons: int  # `":` once whitespace is removed: the key-value pairs of the body


def read_raw_facts(body: bytes) -> RawFacts | None:
    """The facts about `body` the fast path needs, or None when only the careful path
    can judge it.

    With whitespace removed, each key's closing quote sits right before its colon, so
    every pair the parser reads adds one `":`. The other `":` are strings that begin
    with a colon once whitespace is removed (they only add) and escaped quotes before a
    colon (`\\":`, refused here), so a result holding as many pairs as there are `":`
    repeated no key.
    """
    packed = body.translate(None, _WHITESPACE)
    scale = EXACT if body.isascii() else LOOSE
    if _NOTABLE.search(packed) is not None:
        if _UNCLEAR.search(packed) is not None:
            return None
        scale = LOOSE  # an escape past ASCII: more UTF-8 bytes than characters
    return RawFacts(scale, packed.count(b'":'))


def fast_schema(name: str, required: dict[str, Any], optional: dict[str, Any]) -> Any:
    """A strict TypedDict that forbids unknown keys, built from field types (the fast
    schemas depend on the scale, so they are made by functions, not written as classes)."""
    fields = {**required, **{key: NotRequired[kind] for key, kind in optional.items()}}
    return with_config(FAST_CONFIG)(TypedDict(name, fields))  # type: ignore[operator]


def text(max_bytes: int, scale: int) -> Any:
    """A strict string type whose length in characters keeps it under `max_bytes`."""
    return Annotated[str, Field(max_length=max_bytes // scale)]


def string_map(name_max_bytes: int, value_max_bytes: int, scale: int) -> Any:
    """A map of strings (labels, annotations) within the entry count and both limits."""
    return Annotated[
        dict[text(name_max_bytes, scale), text(value_max_bytes, scale)],  # type: ignore[misc]
        Field(max_length=MAX_MAP_ENTRIES),
    ]


def number_map(name_max_bytes: int, scale: int) -> Any:
    """A map of names to finite numbers (Grafana's `values`). NaN and Infinity, which
    pydantic's parser reads but JSON has not, are refused so the careful path refuses them.
    """
    return Annotated[
        dict[text(name_max_bytes, scale), Annotated[float, Field(allow_inf_nan=False)]],  # type: ignore[misc]
        Field(max_length=MAX_MAP_ENTRIES),
    ]


def alert_list(alert: Any) -> Any:
    """The alerts array: validation stops at the first bad alert (the careful path will
    list the problems)."""
    return Annotated[list[alert], FailFast()]


def validate_whole(body: bytes, adapters: dict[int, TypeAdapter[Any]]) -> tuple[Any, int] | None:
    """The body validated by the adapter for its scale, with the number of `":` in it;
    None when the careful path must read it."""
    facts = read_raw_facts(body)
    if facts is None:
        return None
    try:
        document = adapters[facts.scale].validate_json(body)
    except ValidationError:
        return None
    return document, facts.quote_colons


def map_pairs(*maps: Any) -> int:
    """Key-value pairs in the given maps (None counts as empty)."""
    return sum(len(entries) for entries in maps if entries)
