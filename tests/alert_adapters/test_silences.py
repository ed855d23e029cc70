"""Alertmanager's GET /api/v2/silences answer to Silence values, on a real capture."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alert_adapters.silences import SilencesUnreadable, parse_silences
from recorder.core.silences import Matcher
from tests.conftest import fixture_bytes

# Captured from Debian's Alertmanager 0.25 after three `amtool silence add` (alice: regex,
# bob: a negative matcher, carol: a negative regex, then expired).
CAPTURE = fixture_bytes("alertmanager_silences.json")


def test_real_capture_parses_every_silence() -> None:
    """Ids, states, authors, comments, times (UTC) and matchers come through."""
    silences, skipped = parse_silences(CAPTURE)
    assert skipped == 0
    by_author = {s.created_by: s for s in silences}
    assert sorted(by_author) == ["alice", "bob", "carol"]
    alice = by_author["alice"]
    assert alice.id == "6511ea48-3f96-4d5b-accd-a820fb327cba"
    assert (alice.state, alice.comment) == ("active", "Rotating the WAL archive")
    assert alice.starts_at == datetime(2026, 11, 29, 17, 19, 56, 362000, tzinfo=UTC)
    assert alice.ends_at.tzinfo is UTC
    assert alice.matchers == (Matcher("alertname", "Disk.*", is_regex=True),)
    assert by_author["bob"].matchers[1] == Matcher("service", "db", is_equal=False)
    assert by_author["carol"].state == "expired"
    assert by_author["carol"].matchers[1] == Matcher(
        "instance", "web-.*", is_regex=True, is_equal=False
    )


def test_is_equal_absent_means_equality() -> None:
    """Alertmanager before 0.22 sends no isEqual: the matcher is an equality."""
    document = json.loads(CAPTURE)
    for silence in document:
        for matcher in silence["matchers"]:
            del matcher["isEqual"]
    silences, _ = parse_silences(json.dumps(document).encode())
    assert all(m.is_equal for s in silences for m in s.matchers)


def test_malformed_entry_is_skipped_and_counted() -> None:
    """One silence without matchers or times does not hide the others."""
    document = json.loads(CAPTURE)
    document.append({"id": "broken", "status": {"state": "active"}})
    silences, skipped = parse_silences(json.dumps(document).encode())
    assert (len(silences), skipped) == (3, 1)


@pytest.mark.parametrize(
    "body", [b"", b"<html>502 Bad Gateway</html>", b'{"silences": []}', b"\xff\xfe"]
)
def test_not_an_array_of_silences_is_unreadable(body: bytes) -> None:
    """A proxy's error page or another API's answer is refused, not half-read."""
    with pytest.raises(SilencesUnreadable):
        parse_silences(body)
