-- Sampling bookkeeping: who samples which incident (leases) and why a signal is unsampled.
-- (0003 is the PagerDuty migration; versions may have gaps, see migrations.py.)
-- Times are INTEGER microseconds since the epoch, as everywhere.

-- One row per incident a sampler has touched. `holder` samples it until `expires_at`;
-- another process takes over once the lease has expired (its holder died). NULL holder
-- = free. `backfilled_for` is the resolved_at whose backfill is done: a re-opened and
-- re-resolved incident has a new resolved_at and is backfilled again.
CREATE TABLE sampling_leases (
    incident_id    TEXT PRIMARY KEY NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    holder         TEXT,
    expires_at     INTEGER,
    backfilled_for INTEGER
) WITHOUT ROWID;

-- Signals that cannot be sampled for an incident (e.g. a {{label}} with no value).
CREATE TABLE unsampled_signals (
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    signal      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    PRIMARY KEY (incident_id, signal)
) WITHOUT ROWID;

-- Recently resolved incidents are found for their backfill without a full scan.
CREATE INDEX incidents_by_resolved_at ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;
