"""Statements assembled from the column lists, pinned: each test shows the exact SQL a
backend sends, so a change to a column list or a builder shows up here as SQL."""

from __future__ import annotations

from recorder.store.postgres.outcome import WRITE_NEW_INCIDENT, WRITE_OUTCOME
from recorder.store.postgres.views import LOAD_BY_ID_FOR_UPDATE, LOAD_NEWEST_AND_ADOPTABLE_IDS
from recorder.store.sqlite.outcome import _UPSERT_ALERT

# PostgreSQL: an Outcome in one statement (recorder/store/postgres/outcome.py).
WRITE_OUTCOME_SQL = """
WITH incident AS (
INSERT INTO incidents (id, correlation_key, group_key, title, status, severity,
    labels, started_at, detected_at, updated_at, opened_by, acknowledged_at,
    acknowledged_by, resolved_at, resolved_by, reopen_count, severity_source, human,
    pagerduty_id, pagerduty_html_url, pagerduty_incident_key, pagerduty_status_at,
    link_key, figure_settings)
SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::jsonb,
    $8::timestamptz, $9::timestamptz, $10::timestamptz, $11::text, $12::timestamptz,
    $13::text, $14::timestamptz, $15::text, $16::integer, $17::text, $18::jsonb,
    $19::text, $20::text, $21::text, $22::timestamptz, $23::text, $24::jsonb
WHERE $25::boolean
ON CONFLICT (id)
DO UPDATE SET correlation_key = EXCLUDED.correlation_key,
    group_key = EXCLUDED.group_key, title = EXCLUDED.title,
    status = EXCLUDED.status, severity = EXCLUDED.severity,
    labels = EXCLUDED.labels, started_at = EXCLUDED.started_at,
    detected_at = EXCLUDED.detected_at, updated_at = EXCLUDED.updated_at,
    opened_by = EXCLUDED.opened_by, acknowledged_at = EXCLUDED.acknowledged_at,
    acknowledged_by = EXCLUDED.acknowledged_by, resolved_at = EXCLUDED.resolved_at,
    resolved_by = EXCLUDED.resolved_by, reopen_count = EXCLUDED.reopen_count,
    severity_source = EXCLUDED.severity_source, human = EXCLUDED.human,
    pagerduty_id = EXCLUDED.pagerduty_id,
    pagerduty_html_url = EXCLUDED.pagerduty_html_url,
    pagerduty_incident_key = EXCLUDED.pagerduty_incident_key,
    pagerduty_status_at = EXCLUDED.pagerduty_status_at,
    link_key = EXCLUDED.link_key, figure_settings = EXCLUDED.figure_settings),
alert AS (
INSERT INTO alerts (incident_id, fingerprint, starts_at, status, ends_at, labels,
    annotations, generator_url, received_at, updated_at, firing_text, resolved_text,
    value_text, links)
SELECT $1, (u.row ->> 0)::text, (u.row ->> 1)::timestamptz, (u.row ->> 2)::text,
    (u.row ->> 3)::timestamptz, u.row -> 4, u.row -> 5, (u.row ->> 6)::text,
    (u.row ->> 7)::timestamptz, (u.row ->> 8)::timestamptz, u.row -> 9, u.row -> 10,
    (u.row ->> 11)::text, u.row -> 12
FROM jsonb_array_elements($26::jsonb) AS u(row)
ON CONFLICT (incident_id, fingerprint, starts_at)
DO UPDATE SET status = EXCLUDED.status, ends_at = EXCLUDED.ends_at,
    labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
    generator_url = EXCLUDED.generator_url, received_at = EXCLUDED.received_at,
    updated_at = EXCLUDED.updated_at, firing_text = EXCLUDED.firing_text,
    resolved_text = EXCLUDED.resolved_text, value_text = EXCLUDED.value_text,
    links = EXCLUDED.links)
INSERT INTO timeline (incident_id, at, event, action, actor, source, kind, derived)
SELECT $1, u.at, u.event, u.action, u.actor, u.source, u.kind, u.derived
FROM unnest($27::timestamptz[], $28::text[], $29::text[], $30::text[], $31::text[],
    $32::text[], $33::boolean[])
WITH ORDINALITY AS u(at, event, action, actor, source, kind, derived, ord)
ORDER BY u.ord
"""
# Only for an incident that already existed: its alerts are upserts.
ALERT_UPSERT_SQL = """
ON CONFLICT (incident_id, fingerprint, starts_at)
DO UPDATE SET status = EXCLUDED.status, ends_at = EXCLUDED.ends_at,
    labels = EXCLUDED.labels, annotations = EXCLUDED.annotations,
    generator_url = EXCLUDED.generator_url, received_at = EXCLUDED.received_at,
    updated_at = EXCLUDED.updated_at, firing_text = EXCLUDED.firing_text,
    resolved_text = EXCLUDED.resolved_text, value_text = EXCLUDED.value_text,
    links = EXCLUDED.links
"""
# PostgreSQL: one incident locked for update, with its alerts as arrays in one row
# (recorder/store/postgres/views.py).
LOCKED_VIEW_SQL = """
SELECT i.*, al.*
FROM (SELECT id, correlation_key, group_key, title, status, severity, labels, started_at,
    detected_at, updated_at, opened_by, acknowledged_at, acknowledged_by, resolved_at,
    resolved_by, reopen_count, severity_source, human, pagerduty_id, pagerduty_html_url,
    pagerduty_incident_key, pagerduty_status_at, link_key, figure_settings
    FROM incidents WHERE id = $1 FOR UPDATE) AS i
LEFT JOIN LATERAL (
    SELECT array_agg(a.fingerprint) AS alert_fingerprints,
        array_agg(a.starts_at) AS alert_starts, array_agg(a.status) AS alert_statuses,
        array_agg(json_build_array(a.fingerprint, a.starts_at, a.status, a.ends_at,
            a.labels, a.annotations, a.generator_url, a.received_at, a.updated_at,
            a.firing_text, a.resolved_text, a.value_text, a.links)::text) AS alert_rows
    FROM (SELECT * FROM alerts WHERE alerts.incident_id = i.id
        ORDER BY starts_at, fingerprint) AS a
) AS al ON true
"""
# PostgreSQL: what every notification looks up, in one round trip: the key's newest
# incident as above (not locked), and the ids of incidents PagerDuty opened with the link
# key ($2, $3 the paged key pattern).
NEWEST_AND_ADOPTABLE_SQL = """
SELECT v.*, ARRAY(SELECT id FROM incidents WHERE link_key = $2
    AND correlation_key LIKE $3 ORDER BY id DESC LIMIT 20) AS adoptable_ids
FROM (SELECT 1) AS one
LEFT JOIN LATERAL ({view}) AS v ON true
"""
# SQLite: one alert row of an Outcome (recorder/store/sqlite/outcome.py).
SQLITE_UPSERT_ALERT_SQL = """
INSERT INTO alerts (incident_id, fingerprint, starts_at, status, ends_at, labels,
    annotations, generator_url, received_at, updated_at, firing_text, resolved_text,
    value_text, links)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (incident_id, fingerprint, starts_at)
DO UPDATE SET status = excluded.status, ends_at = excluded.ends_at,
    labels = excluded.labels, annotations = excluded.annotations,
    generator_url = excluded.generator_url, received_at = excluded.received_at,
    updated_at = excluded.updated_at, firing_text = excluded.firing_text,
    resolved_text = excluded.resolved_text, value_text = excluded.value_text,
    links = excluded.links
"""


def _words(sql: str) -> str:
    """The statement with its white space folded, none inside parentheses (the line
    breaks and indents above are for reading)."""
    return " ".join(sql.split()).replace("( ", "(").replace(" )", ")")


def test_an_outcome_is_written_in_this_one_statement() -> None:
    """The incident row behind a flag ($25), the alerts from one JSON document ($26)
    upserted, the timeline from arrays ($27..$33) in the order given."""
    assert _words(WRITE_OUTCOME) == _words(WRITE_OUTCOME_SQL)


def test_a_new_incidents_alerts_are_plain_inserts() -> None:
    """The same statement without the alerts' ON CONFLICT clause: the incident is new, so
    none of its alerts can be there yet."""
    assert _words(ALERT_UPSERT_SQL) in _words(WRITE_OUTCOME_SQL)
    expected = _words(WRITE_OUTCOME_SQL).replace(" " + _words(ALERT_UPSERT_SQL), "")
    assert _words(WRITE_NEW_INCIDENT) == expected
    assert "ON CONFLICT (incident_id" not in WRITE_NEW_INCIDENT


def test_an_incident_is_loaded_and_locked_with_this_statement() -> None:
    """The row lock and the alerts' arrays, sorted once for every aggregate."""
    assert _words(LOAD_BY_ID_FOR_UPDATE) == _words(LOCKED_VIEW_SQL)


def test_a_notification_looks_up_its_incidents_with_this_statement() -> None:
    """The newest incident of the key ($1), or a row of NULLs, and the adoptable ids."""
    view = _words(LOCKED_VIEW_SQL).replace(
        "WHERE id = $1 FOR UPDATE", "WHERE correlation_key = $1 ORDER BY id DESC LIMIT 1"
    )
    expected = _words(NEWEST_AND_ADOPTABLE_SQL.format(view=view))
    assert _words(LOAD_NEWEST_AND_ADOPTABLE_IDS) == expected


def test_sqlite_upserts_each_alert_with_this_statement() -> None:
    """One row per alert, keyed by incident, fingerprint and start; the rest is replaced."""
    assert _words(_UPSERT_ALERT) == _words(SQLITE_UPSERT_ALERT_SQL)
