-- What an alert's sender said about it besides labels and annotations, as first seen:
-- the evaluated values when it fired ("B=44.2, C=1") and links to pages about it
-- (dashboard, panel, image, silence), a JSON object of strings. Grafana-managed
-- alerting sends both. (0005-0008 are reserved for work landing in parallel.)
ALTER TABLE alerts ADD COLUMN value_text TEXT NOT NULL DEFAULT '';
ALTER TABLE alerts ADD COLUMN links TEXT NOT NULL DEFAULT '{}';
