-- What a report needs beyond the latest state: what each alert said when it fired and
-- when it resolved, what shaped an incident's figures when it resolved, and why sampling
-- failed. (0006 onward are other changes; versions may have gaps, see migrations.py.)
-- Times are INTEGER microseconds since the epoch, as everywhere.

-- An alert's text at firing and at resolution: {"annotations": {...}, "value": "..."}
-- ("value" only where the source sends a value text, as Grafana's valueString). NULL on
-- rows from before this migration: they keep showing the annotations they have.
ALTER TABLE alerts ADD COLUMN firing_text TEXT;
ALTER TABLE alerts ADD COLUMN resolved_text TEXT;

-- The settings that shaped the figures (SLO target, warning and outage levels, sampling,
-- signal queries, severity map) as they were when the incident resolved; NULL while open.
ALTER TABLE incidents ADD COLUMN figure_settings TEXT;

-- Why a signal's samples are missing: one row per incident, signal and cause
-- (unreachable, unavailable, rejected, query_rejected, no_series) with the latest error
-- text, the Prometheus URL asked (password masked), and when and how often it happened.
CREATE TABLE sampling_failures (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    signal      TEXT NOT NULL,
    cause       TEXT NOT NULL,
    error       TEXT NOT NULL,
    source      TEXT NOT NULL,
    first_at    INTEGER NOT NULL,
    last_at     INTEGER NOT NULL,
    count       INTEGER NOT NULL,
    PRIMARY KEY (incident_id, signal, cause)
) WITHOUT ROWID;
