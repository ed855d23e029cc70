-- Sampling bookkeeping: who samples which incident (leases) and why a signal is unsampled.
-- (0003 is the PagerDuty migration; versions may have gaps, see migrations.py.)

-- One row per incident a sampler has touched. `holder` samples it until `expires_at`;
-- another replica takes over once the lease has expired (its holder died). NULL holder
-- = free. `backfilled_for` is the resolved_at whose backfill is done: a re-opened and
-- re-resolved incident has a new resolved_at and is backfilled again.
CREATE TABLE sampling_leases (
    incident_id    text PRIMARY KEY REFERENCES incidents (id) ON DELETE CASCADE,
    holder         text,
    expires_at     timestamptz,
    backfilled_for timestamptz
);

-- Signals that cannot be sampled for an incident (e.g. a {{label}} with no value).
CREATE TABLE unsampled_signals (
    incident_id text NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    signal      text NOT NULL,
    reason      text NOT NULL,
    PRIMARY KEY (incident_id, signal)
);

-- Recently resolved incidents are found for their backfill without a full scan.
CREATE INDEX incidents_by_resolved_at ON incidents (resolved_at) WHERE resolved_at IS NOT NULL;
