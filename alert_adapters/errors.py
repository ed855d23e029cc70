"""Errors raised by the payload adapters; the web layer maps each class to one HTTP status."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

# Enough to locate the problem; a hostile payload must not turn into a huge error body.
MAX_REPORTED_ERRORS = 10


class PayloadError(Exception):
    """Base class: the request body cannot be turned into events."""


class PayloadNotJSON(PayloadError):
    """The body is empty or not valid JSON (HTTP 400)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source} payload is not valid JSON: {reason}")
        self.source = source
        self.reason = reason


class UnsupportedVersion(PayloadError):
    """The payload declares a schema version this adapter does not read (HTTP 400)."""

    def __init__(self, source: str, version: str, supported: str) -> None:
        super().__init__(
            f"{source} payload version {version!r} is not supported (expected {supported!r})"
        )
        self.source = source
        self.version = version
        self.supported = supported


class PayloadInvalid(PayloadError):
    """Valid JSON that breaks the vendor schema (HTTP 422).

    `errors` holds one short line per problem, `field.path: message`, at most
    MAX_REPORTED_ERRORS of them plus a line saying how many more there were.
    """

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.source = source
        self.errors: list[str] = list(errors)
        super().__init__(f"{source} payload does not match the schema: " + "; ".join(self.errors))


def describe_validation_error(error: ValidationError, at: str = "") -> list[str]:
    """One `path: message` line per pydantic error, without echoing the offending input.

    `at` is the dotted path of the validated value inside the document ("" = the root).
    """
    details = error.errors(include_url=False, include_context=False, include_input=False)
    lines = [
        f"{'.'.join([at, *(str(part) for part in detail['loc'])]).strip('.') or '(body)'}: "
        f"{detail['msg']}"
        for detail in details[:MAX_REPORTED_ERRORS]
    ]
    if len(details) > MAX_REPORTED_ERRORS:
        lines.append(f"... and {len(details) - MAX_REPORTED_ERRORS} more errors")
    return lines


def json_error(error: ValidationError) -> str | None:
    """The JSON syntax message if pydantic failed before validating, else None."""
    for detail in error.errors(include_url=False, include_context=False, include_input=False):
        if detail["type"] == "json_invalid":
            return detail["msg"]
    return None
