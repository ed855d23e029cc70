"""Logging: structlog configured once, console on a TTY, JSON otherwise.

Every webhook delivery writes a line or two, so the JSON form is built in one step
(`JsonLine`) and written with one call (`LineWriter`); the result is the line that
structlog's `merge_contextvars`, `add_log_level`, `TimeStamper(fmt="iso", utc=True)`,
`format_exc_info` and `JSONRenderer` would build, key for key.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from typing import Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_LEVEL_NAMES = {"warn": "warning", "exception": "error"}


def _fallback(obj: Any) -> Any:
    """What JSONRenderer writes for a value JSON has no type for."""
    try:
        return obj.__structlog__()
    except AttributeError:
        return repr(obj)


class JsonLine:
    """A structlog processor: the event as one JSON line, with level and UTC timestamp."""

    def __init__(self) -> None:
        self._encode = json.JSONEncoder(default=_fallback).encode
        self._stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> str:
        structlog.contextvars.merge_contextvars(logger, method_name, event_dict)
        event_dict["level"] = _LEVEL_NAMES.get(method_name, method_name)
        self._stamp(logger, method_name, event_dict)
        if "exc_info" in event_dict:
            structlog.processors.format_exc_info(logger, method_name, event_dict)
        return self._encode(event_dict)


class LineWriter:
    """A structlog logger writing each message as one line to `file`, flushed."""

    def __init__(self, file: TextIO) -> None:
        self._write = file.write
        self._flush = file.flush
        self._lock = threading.Lock()

    def msg(self, message: str) -> None:
        """Write `message` and a newline in one call."""
        with self._lock:
            self._write(message + "\n")
            self._flush()

    log = debug = info = warn = warning = msg
    fatal = failure = err = error = critical = exception = msg


def configure_logging(fmt: Literal["json", "console"] | None, level: str = "info") -> None:
    """Set up structlog for the process; `fmt=None` picks console on a TTY, else JSON."""
    if fmt is None:
        fmt = "console" if sys.stderr.isatty() else "json"
    wrapper_class = structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.INFO))
    if fmt == "json":
        writer = LineWriter(sys.stderr)
        structlog.configure(
            processors=[JsonLine()],
            wrapper_class=wrapper_class,
            logger_factory=lambda *_: writer,
            cache_logger_on_first_use=True,
        )
        return
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.dev.ConsoleRenderer(),
        ],
        wrapper_class=wrapper_class,
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
