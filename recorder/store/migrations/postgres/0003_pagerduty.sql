-- PagerDuty: link pages to incidents and remember every delivery (dedup + delivery log).
-- (0004 is the sampling migration; versions may have gaps, see migrations.py.)

-- When the newest PagerDuty status change applied so far happened: older ones arriving
-- late (redelivery, reordering) must not undo it.
ALTER TABLE incidents ADD COLUMN pagerduty_status_at timestamptz;
-- The key pages are linked by (recorder.core.links.incident_link_key): the PagerDuty
-- incident_key once linked, else sha256_hex(group_key) -- what Alertmanager's PagerDuty
-- integration sends as dedup_key. Written by the application on every incident write.
ALTER TABLE incidents ADD COLUMN link_key text;
UPDATE incidents SET link_key = COALESCE(
    pagerduty_incident_key,
    CASE WHEN group_key <> '' THEN encode(sha256(convert_to(group_key, 'UTF8')), 'hex') END
);
CREATE INDEX incidents_by_link_key ON incidents (link_key, id) WHERE link_key IS NOT NULL;
-- One recorder incident per PagerDuty incident.
CREATE UNIQUE INDEX incidents_one_per_pagerduty_id
    ON incidents (pagerduty_id) WHERE pagerduty_id IS NOT NULL;

-- One row per PagerDuty event received: the primary key makes a redelivery (same event
-- id, same X-Webhook-Id) a no-op, and the rows are the delivery log, ignored types too.
-- outcome: stored (applied to incident_id), ignored (type not used, or a ping) or
-- unmatched (a note or update for a PagerDuty incident the recorder does not know).
CREATE TABLE pagerduty_deliveries (
    event_id    text PRIMARY KEY,
    webhook_id  text,
    event_type  text NOT NULL,
    kind        text NOT NULL,
    incident_id text,
    received_at timestamptz NOT NULL,
    outcome     text NOT NULL
);
CREATE INDEX pagerduty_deliveries_by_received_at ON pagerduty_deliveries (received_at);
