"""The SQL both backends share: placeholders, and the incident list's query pinned."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recorder.core.incident import IncidentStatus
from recorder.store.cursors import decode_cursor
from recorder.store.errors import InvalidCursor
from recorder.store.statements import SELECT_INCIDENTS, for_sqlite, list_incidents_query


def test_sqlite_placeholders_bind_the_same_numbered_parameter() -> None:
    """`$n` becomes `?n`; a JSON path's `$.` is left alone."""
    sql = "SELECT 1 WHERE a = $2 AND b = $10 AND json_extract(x, '$.alertname') = $1"
    assert for_sqlite(sql) == (
        "SELECT 1 WHERE a = ?2 AND b = ?10 AND json_extract(x, '$.alertname') = ?1"
    )


def test_the_list_query_filters_pages_and_asks_one_row_more() -> None:
    """Status filter, keyset cursor and limit+1, numbered in order, as written here."""
    from recorder.store.cursors import _cursor

    started = datetime(2026, 11, 28, 14, 2, tzinfo=UTC)
    cursor = _cursor(int(started.timestamp() * 1_000_000), "inc_1")
    sql, params = list_incidents_query(
        status=IncidentStatus.MITIGATING,
        open_only=False,
        limit=50,
        cursor=cursor,
        encode_time=lambda at: at.isoformat(),
    )
    assert sql == (
        f"{SELECT_INCIDENTS} WHERE status = $1 AND (started_at, id) < ($2, $3)"
        " ORDER BY started_at DESC, id DESC LIMIT $4"
    )
    assert params == ["mitigating", decode_cursor(cursor)[0].isoformat(), "inc_1", 51]


def test_the_open_list_has_no_parameters_but_the_limit() -> None:
    """`open_only` is a literal condition; only the limit is bound."""
    sql, params = list_incidents_query(
        status=None, open_only=True, limit=1, cursor=None, encode_time=str
    )
    assert sql == (
        f"{SELECT_INCIDENTS} WHERE status <> 'resolved' ORDER BY started_at DESC, id DESC LIMIT $1"
    )
    assert params == [2]


def test_a_bad_cursor_or_limit_is_refused() -> None:
    """A cursor the store did not make raises InvalidCursor; a limit below 1 ValueError."""
    with pytest.raises(InvalidCursor):
        list_incidents_query(
            status=None, open_only=False, limit=5, cursor="not-a-cursor", encode_time=str
        )
    with pytest.raises(ValueError, match="at least 1"):
        list_incidents_query(status=None, open_only=False, limit=0, cursor=None, encode_time=str)


def test_related_incidents_are_selected_by_either_label_in_the_dialects_words() -> None:
    """The dialect only says how a label's value is read; the rest is this statement."""
    from recorder.store.statements import select_related

    assert select_related("json_extract(labels, '$.{}')") == (
        f"{SELECT_INCIDENTS} WHERE id < $1 AND (json_extract(labels, '$.alertname') = $2"
        " OR json_extract(labels, '$.service') = $3) ORDER BY id DESC LIMIT $4"
    )
