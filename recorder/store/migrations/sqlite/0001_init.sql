-- Incidents, their alerts and timelines.
-- Times are INTEGER microseconds since 1970-01-01T00:00:00Z (UTC): exact, and they sort
-- numerically. Label-like maps are TEXT holding a JSON object of strings. Later
-- migrations (PagerDuty event ids, samples, leases) add tables in files 0002_*.sql onward.

CREATE TABLE incidents (
    id                     TEXT PRIMARY KEY NOT NULL,
    correlation_key        TEXT NOT NULL,
    group_key              TEXT NOT NULL,
    title                  TEXT NOT NULL,
    status                 TEXT NOT NULL
        CHECK (status IN ('investigating', 'mitigating', 'resolved')),
    severity               TEXT,
    labels                 TEXT NOT NULL,
    started_at             INTEGER NOT NULL,
    detected_at            INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    opened_by              TEXT NOT NULL,
    acknowledged_at        INTEGER,
    acknowledged_by        TEXT,
    resolved_at            INTEGER,
    resolved_by            TEXT,
    reopen_count           INTEGER NOT NULL DEFAULT 0,
    severity_source        TEXT NOT NULL,
    human                  TEXT NOT NULL DEFAULT '{}',
    pagerduty_id           TEXT,
    pagerduty_html_url     TEXT,
    pagerduty_incident_key TEXT
);

-- Backstop for BEGIN IMMEDIATE: at most one open incident per correlation key.
CREATE UNIQUE INDEX incidents_one_open_per_key
    ON incidents (correlation_key) WHERE status <> 'resolved';
CREATE INDEX incidents_by_key ON incidents (correlation_key, id);
CREATE INDEX incidents_by_status ON incidents (status, id);
CREATE INDEX incidents_by_alertname ON incidents (json_extract(labels, '$.alertname'), id);
CREATE INDEX incidents_by_service ON incidents (json_extract(labels, '$.service'), id);
CREATE INDEX incidents_by_updated_at ON incidents (updated_at);

-- One row per distinct alert of an incident: identity is (fingerprint, starts_at).
CREATE TABLE alerts (
    incident_id   TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    starts_at     INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    ends_at       INTEGER,
    labels        TEXT NOT NULL,
    annotations   TEXT NOT NULL,
    generator_url TEXT NOT NULL,
    received_at   INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (incident_id, fingerprint, starts_at)
) WITHOUT ROWID;

-- seq (the rowid) keeps insertion order among entries with the same time.
CREATE TABLE timeline (
    seq         INTEGER PRIMARY KEY,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    event       TEXT NOT NULL,
    action      TEXT NOT NULL,
    actor       TEXT NOT NULL,  -- TimelineEntry.by (BY is an SQL keyword)
    source      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    derived     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX timeline_by_incident ON timeline (incident_id, at, seq);
