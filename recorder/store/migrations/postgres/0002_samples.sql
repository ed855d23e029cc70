-- Prometheus samples kept as evidence per incident and signal (see StoredSample).
-- A sample is identified by (incident, signal, at); a repeated one is ignored.

CREATE TABLE samples (
    incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    signal      text NOT NULL,
    at          timestamptz NOT NULL,
    value       double precision NOT NULL,
    PRIMARY KEY (incident_id, signal, at)
);
