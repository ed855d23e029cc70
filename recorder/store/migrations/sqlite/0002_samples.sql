-- Prometheus samples kept as evidence per incident and signal (see StoredSample).
-- A sample is identified by (incident, signal, at); a repeated one is ignored.
-- `at` is integer microseconds since the epoch, as everywhere. `value` is NULL for NaN:
-- SQLite cannot store a NaN REAL (Prometheus returns NaN for 0/0).

CREATE TABLE samples (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    signal      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    value       REAL,
    PRIMARY KEY (incident_id, signal, at)
) WITHOUT ROWID;
