-- Incidents, their alerts and timelines.
-- Times are timestamptz (microsecond precision, returned as UTC). Label-like maps are
-- jsonb objects of strings. Later migrations (PagerDuty event ids, samples, leases) add
-- tables in files 0002_*.sql onward.

CREATE TABLE incidents (
    id                     text PRIMARY KEY,
    correlation_key        text NOT NULL,
    group_key              text NOT NULL,
    title                  text NOT NULL,
    status                 text NOT NULL
        CHECK (status IN ('investigating', 'mitigating', 'resolved')),
    severity               text,
    labels                 jsonb NOT NULL,
    started_at             timestamptz NOT NULL,
    detected_at            timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    opened_by              text NOT NULL,
    acknowledged_at        timestamptz,
    acknowledged_by        text,
    resolved_at            timestamptz,
    resolved_by            text,
    reopen_count           integer NOT NULL DEFAULT 0,
    severity_source        text NOT NULL,
    human                  jsonb NOT NULL DEFAULT '{}',
    pagerduty_id           text,
    pagerduty_html_url     text,
    pagerduty_incident_key text
);

-- Backstop for the per-key advisory lock: at most one open incident per correlation key.
CREATE UNIQUE INDEX incidents_one_open_per_key
    ON incidents (correlation_key) WHERE status <> 'resolved';
CREATE INDEX incidents_by_key ON incidents (correlation_key, id);
CREATE INDEX incidents_by_status ON incidents (status, id);
CREATE INDEX incidents_by_alertname ON incidents ((labels ->> 'alertname'), id);
CREATE INDEX incidents_by_service ON incidents ((labels ->> 'service'), id);
CREATE INDEX incidents_by_updated_at ON incidents (updated_at);

-- One row per distinct alert of an incident: identity is (fingerprint, starts_at).
CREATE TABLE alerts (
    incident_id   text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    fingerprint   text NOT NULL,
    starts_at     timestamptz NOT NULL,
    status        text NOT NULL CHECK (status IN ('firing', 'resolved')),
    ends_at       timestamptz,
    labels        jsonb NOT NULL,
    annotations   jsonb NOT NULL,
    generator_url text NOT NULL,
    received_at   timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (incident_id, fingerprint, starts_at)
);

-- seq keeps insertion order among entries with the same time.
CREATE TABLE timeline (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    event       text NOT NULL,
    action      text NOT NULL,
    actor       text NOT NULL,  -- TimelineEntry.by (BY is an SQL keyword)
    source      text NOT NULL,
    kind        text NOT NULL,
    derived     boolean NOT NULL DEFAULT false
);
CREATE INDEX timeline_by_incident ON timeline (incident_id, at, seq);
