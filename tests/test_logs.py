"""The JSON log line: the line structlog's standard processors would write, key for key."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import structlog

from recorder.logs import configure_logging

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")


class Shaped:
    def __structlog__(self) -> str:
        return "shaped"


def standard_chain(file: io.StringIO) -> None:
    """The processors the JSON form stands for, as structlog ships them."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(20),
        logger_factory=structlog.PrintLoggerFactory(file=file),
    )


def recorder_json(file: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stderr", file)
    configure_logging("json", "info")


def log_everything() -> None:
    log = structlog.get_logger("recorder")
    structlog.contextvars.bind_contextvars(request_id="req-1")
    try:
        log.info(
            "request_handled",
            method="POST",
            status=200,
            duration_ms=1.25,
            incidents=["a", "b"],
            request_id="req-2",
        )
        log.info("incident_opened", title='Disk "é" ☃ \x00', severity=None, n=float("nan"))
        log.info("odd_values", shaped=Shaped(), raw=b"x", nested={"k": [1, 2.5, True]})
        log.debug("not_written")
        log.warning("storage_still_unavailable", retry_in_s=1)
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("request_failed", error_id="e1")
        log.error("no_exception", exc_info=False)
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    log.warn("after_the_request")


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Any], list[str]]]:
    def written(setup: Any) -> list[str]:
        file = io.StringIO()
        structlog.reset_defaults()
        if setup is standard_chain:
            standard_chain(file)
        else:
            recorder_json(file, monkeypatch)
        log_everything()
        return file.getvalue().splitlines()

    yield written
    structlog.reset_defaults()


def without_timestamp(line: str) -> tuple[str, str]:
    data = json.loads(line)
    stamp = data["timestamp"]
    return line.replace(json.dumps(stamp), '"T"'), stamp


def test_json_lines_match_structlogs_standard_processors(
    lines: Callable[[Any], list[str]],
) -> None:
    """Same keys in the same order, same values and escaping; only the time differs."""
    expected = lines(standard_chain)
    actual = lines(recorder_json)
    assert len(actual) == len(expected) == 7
    for want, got in zip(expected, actual, strict=True):
        want_text, _ = without_timestamp(want)
        got_text, stamp = without_timestamp(got)
        assert got_text == want_text
        assert ISO_UTC.fullmatch(stamp), stamp
    failed = json.loads(actual[4])
    assert failed["level"] == "error"
    assert "ValueError: boom" in failed["exception"]
    assert json.loads(actual[0])["request_id"] == "req-2"
    assert json.loads(actual[1])["request_id"] == "req-1"
    assert "request_id" not in json.loads(actual[6])
