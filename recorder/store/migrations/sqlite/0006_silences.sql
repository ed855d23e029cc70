-- Alertmanager silences applied to incidents (acknowledgment and timeline entry), one
-- row per incident and silence id: a silence is applied once per incident, whichever
-- process saw it first and however often it restarts. Times are INTEGER microseconds.
CREATE TABLE incident_silences (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    silence_id  TEXT NOT NULL,
    applied_at  INTEGER NOT NULL,
    PRIMARY KEY (incident_id, silence_id)
) WITHOUT ROWID;
