"""Errors raised by the payload adapters; the web layer maps each class to one HTTP status."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError

# Enough to locate the problem; a hostile payload must not turn into a huge error body.
MAX_REPORTED_ERRORS = 10


# Adapters validate decoded JSON values; the sender should read JSON's words, not Python's.
_JSON_WORDING = {
    "Input should be a valid dictionary": "Input should be an object",
    "Input should be a valid list": "Input should be a valid array",
}
_MODEL_INPUT = "Input should be a valid dictionary or instance of "


def _json_wording(message: str) -> str:
    if message.startswith(_MODEL_INPUT):  # names a private model class
        return "Input should be an object"
    return _JSON_WORDING.get(message, message)


class PayloadError(Exception):
    """Base class: the request body cannot be turned into events."""


class PayloadNotJSON(PayloadError):
    """The body is empty or not valid JSON (HTTP 400)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source} payload is not valid JSON: {reason}")
        self.source = source
        self.reason = reason

    def __reduce__(self) -> tuple[type[PayloadNotJSON], tuple[str, str]]:
        # Errors cross a process boundary when a body is parsed in a worker process.
        return type(self), (self.source, self.reason)


class UnsupportedVersion(PayloadError):
    """The payload declares a schema version this adapter does not read (HTTP 400)."""

    def __init__(self, source: str, version: str, supported: str) -> None:
        super().__init__(
            f"{source} payload version {version!r} is not supported (expected {supported!r})"
        )
        self.source = source
        self.version = version
        self.supported = supported

    def __reduce__(self) -> tuple[type[UnsupportedVersion], tuple[str, ...]]:
        return type(self), (self.source, self.version, self.supported)


class PayloadInvalid(PayloadError):
    """Valid JSON that breaks the vendor schema (HTTP 422).

    `errors` holds one short line per problem, `field.path: message`, at most
    MAX_REPORTED_ERRORS of them plus a line saying how many more there were.
    """

    def __init__(self, source: str, errors: Sequence[str]) -> None:
        self.source = source
        self.errors: list[str] = list(errors)
        super().__init__(f"{source} payload does not match the schema: " + "; ".join(self.errors))

    def __reduce__(self) -> tuple[type[PayloadInvalid], tuple[str, list[str]]]:
        return type(self), (self.source, self.errors)


class ProblemList:
    """Problems found while validating, kept to MAX_REPORTED_ERRORS.

    Validation stops as soon as the list is full (`full`), so a hostile body with a
    million bad entries costs no more than one with ten.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []

    @property
    def full(self) -> bool:
        return len(self.lines) >= MAX_REPORTED_ERRORS

    def add(self, path: str, message: str) -> None:
        """One `path: message` line, unless the list is full."""
        if not self.full:
            self.lines.append(f"{path or '(body)'}: {message}")

    def add_validation_error(self, error: ValidationError, at: str = "") -> None:
        """The lines describe_validation_error makes, up to what the list still holds."""
        for line in describe_validation_error(error, at):
            if self.full:
                return
            self.lines.append(line)

    def raise_if_any(self, source: str) -> None:
        """Raise PayloadInvalid with the problems found, saying if validation stopped early."""
        if not self.lines:
            return
        lines = list(self.lines)
        if self.full:
            lines.append(f"(validation stopped after {MAX_REPORTED_ERRORS} problems)")
        raise PayloadInvalid(source, lines)


def describe_validation_error(error: ValidationError, at: str = "") -> list[str]:
    """One `path: message` line per pydantic error, without echoing the offending input.

    `at` is the dotted path of the validated value inside the document ("" = the root).
    """
    details = error.errors(include_url=False, include_context=False, include_input=False)
    lines = [
        f"{'.'.join([at, *(str(part) for part in detail['loc'])]).strip('.') or '(body)'}: "
        f"{_json_wording(detail['msg'])}"
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
