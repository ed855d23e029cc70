-- Alertmanager silences applied to incidents (acknowledgment and timeline entry), one
-- row per incident and silence id: a silence is applied once per incident, whichever
-- replica saw it first and however often it restarts.
CREATE TABLE incident_silences (
    incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    silence_id  text NOT NULL,
    applied_at  timestamptz NOT NULL,
    PRIMARY KEY (incident_id, silence_id)
);
