-- What an alert's sender said about it besides labels and annotations, as first seen:
-- the evaluated values when it fired ("B=44.2, C=1") and links to pages about it
-- (dashboard, panel, image, silence). Grafana-managed alerting sends both.
-- (0005-0008 are reserved for work landing in parallel; versions may have gaps.)
ALTER TABLE alerts
    ADD COLUMN value_text text NOT NULL DEFAULT '',
    ADD COLUMN links jsonb NOT NULL DEFAULT '{}';
