"""Decoding a webhook body into JSON values: strict, bounded, and cheap for the event loop."""

from __future__ import annotations

import json
from typing import Any, NoReturn

from alert_adapters.errors import PayloadNotJSON
from alert_adapters.limits import MAX_JSON_DEPTH

# Below this many values a body decodes in a few milliseconds, however it is shaped.
_DENSE_MIN_VALUES = 20_000
# Real webhook bodies spend about 25 bytes per value, and every value sits in a small
# object (about ten values each).
_DENSE_BYTES_PER_VALUE = 8
_DENSE_VALUES_PER_OBJECT = 16


class _DuplicateKey(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A Python hook per object also lets other threads (the event loop) take the GIL
    # while a big body is decoded in a worker thread.
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(f"duplicate key {key[:40]!r} in an object")
            seen.add(key)
    return document


def _constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def is_value_dense(body: bytes) -> bool:
    """True when `body` packs many small JSON values, as no real sender does (say,
    `[1,1,1,...]` or a million `{}`): over 20,000 values, and under 8 bytes each or 16 to
    an object.

    Decoding such a body holds the GIL in long stretches (the C decoder calls back into
    Python only once per object; the garbage collector scans what it builds), so callers
    decode it in another process. Commas stand for values: those inside strings only make
    the estimate err on the safe side.
    """
    values = body.count(b",") + 1
    if values <= _DENSE_MIN_VALUES:
        return False
    objects = body.count(b"{") + 1
    return (
        len(body) < _DENSE_BYTES_PER_VALUE * values or values > _DENSE_VALUES_PER_OBJECT * objects
    )


def decode_document(body: bytes, source: str) -> Any:
    """The JSON value of `body`, refusing what JSON (RFC 8259) or the recorder does not allow.

    Refused (PayloadNotJSON, HTTP 400): an empty body, bytes that are not UTF-8, syntax
    errors, NaN and Infinity, duplicate keys in an object (senders never make them; a
    reader picking one of them would be guessing), integers of more than 4300 digits, and
    nesting deeper than MAX_JSON_DEPTH.
    """
    if not body.strip():
        raise PayloadNotJSON(source, "empty body")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadNotJSON(source, f"not UTF-8 (byte {exc.start})") from None
    try:
        document = json.loads(text, object_pairs_hook=_object, parse_constant=_constant)
    except RecursionError:
        raise PayloadNotJSON(source, f"nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, duplicate keys, NaN, huge integers
        raise PayloadNotJSON(source, str(exc)) from None
    if _depth_exceeds(document, MAX_JSON_DEPTH):
        raise PayloadNotJSON(source, f"nested deeper than {MAX_JSON_DEPTH} levels")
    return document


def _depth_exceeds(document: Any, limit: int) -> bool:
    """True when arrays and objects nest more than `limit` deep.

    Level by level, without recursion; empty containers are not queued (the common case
    of a hostile body, a million `{}`, costs one type check each).
    """
    level = [document] if isinstance(document, dict | list) else []
    depth = 1
    while level:
        if depth > limit:
            return True
        deeper: list[Any] = []
        for value in level:
            for child in value.values() if type(value) is dict else value:
                if type(child) is dict or type(child) is list:
                    if child:
                        deeper.append(child)
                    elif depth + 1 > limit:
                        return True
        level = deeper
        depth += 1
    return False
