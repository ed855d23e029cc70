"""The ceiling for bench/ingest.py: a minimal aiohttp + orjson + asyncpg webhook handler.

It does the recorder's transaction with nothing around it, round trip for round trip:

1. ``BEGIN`` and a transaction advisory lock on the group key (one simple query);
2. load the key's newest incident with its alerts (one query);
3. one statement that upserts the incident, upserts every alert and inserts the
   "incident opened" timeline row when the incident is new;
4. ``COMMIT``.

A repeated notification (every alert already stored) writes nothing, as in the
recorder. There is no validation, lifecycle decision, logging or metrics: that is the
per-request work whose cost the benchmark measures.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import orjson
from aiohttp import web

SCHEMA = """
CREATE TABLE IF NOT EXISTS b_incidents (
    id bigserial PRIMARY KEY,
    correlation_key text NOT NULL,
    title text NOT NULL,
    status text NOT NULL,
    labels jsonb NOT NULL,
    started_at timestamptz NOT NULL,
    detected_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS b_incidents_key ON b_incidents (correlation_key, id DESC);
CREATE TABLE IF NOT EXISTS b_alerts (
    incident_id bigint NOT NULL REFERENCES b_incidents(id),
    fingerprint text NOT NULL,
    starts_at timestamptz NOT NULL,
    status text NOT NULL,
    labels jsonb NOT NULL,
    annotations jsonb NOT NULL,
    PRIMARY KEY (incident_id, fingerprint, starts_at)
);
CREATE TABLE IF NOT EXISTS b_timeline (
    id bigserial PRIMARY KEY,
    incident_id bigint NOT NULL REFERENCES b_incidents(id),
    at timestamptz NOT NULL,
    event text NOT NULL
);
"""

LOAD = """
SELECT i.id, i.status,
       (SELECT coalesce(array_agg(a.fingerprint || '@' || a.starts_at || '@' || a.status), '{}')
        FROM b_alerts a WHERE a.incident_id = i.id) AS alerts
FROM b_incidents i WHERE i.correlation_key = $1 ORDER BY i.id DESC LIMIT 1
"""

WRITE = """
WITH incident AS (
    INSERT INTO b_incidents (id, correlation_key, title, status, labels, started_at,
                             detected_at, updated_at)
    VALUES (coalesce($1, nextval('b_incidents_id_seq')), $2, $3, 'investigating', $4::jsonb,
            $5, $6, $6)
    ON CONFLICT (id) DO UPDATE SET updated_at = EXCLUDED.updated_at
    RETURNING id
), alerts AS (
    INSERT INTO b_alerts (incident_id, fingerprint, starts_at, status, labels, annotations)
    SELECT (SELECT id FROM incident), f, s, st, l::jsonb, an::jsonb
    FROM unnest($7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[])
         AS t(f, s, st, l, an)
    ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET status = EXCLUDED.status
)
INSERT INTO b_timeline (incident_id, at, event)
SELECT id, $6, 'Incident opened' FROM incident WHERE $1::bigint IS NULL
"""

POOL = web.AppKey("pool", asyncpg.Pool)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def handle(request: web.Request) -> web.Response:
    data = orjson.loads(await request.read())
    alerts = data["alerts"]
    key = "group:" + data["groupKey"]
    lock = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    now = datetime.now(UTC)
    async with request.app[POOL].acquire() as conn:
        await conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({lock:d})")
        try:
            row = await conn.fetchrow(LOAD, key)
            stored = set() if row is None else set(row["alerts"])
            fresh = [
                a
                for a in alerts
                if f"{a['fingerprint']}@{parse_time(a['startsAt'])}@{a['status']}" not in stored
            ]
            if fresh:
                await conn.execute(
                    WRITE,
                    None if row is None else row["id"],
                    key,
                    alerts[0]["labels"].get("alertname", ""),
                    orjson.dumps(data["commonLabels"]).decode(),
                    parse_time(alerts[0]["startsAt"]),
                    now,
                    [a["fingerprint"] for a in fresh],
                    [parse_time(a["startsAt"]) for a in fresh],
                    [a["status"] for a in fresh],
                    [orjson.dumps(a["labels"]).decode() for a in fresh],
                    [orjson.dumps(a["annotations"]).decode() for a in fresh],
                )
            await conn.execute("COMMIT")
        except BaseException:
            await conn.execute("ROLLBACK")
            raise
    status = "stored" if fresh else "duplicate"
    return web.Response(body=orjson.dumps({"status": status}), content_type="application/json")


async def pool_ctx(app: web.Application) -> AsyncIterator[None]:
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=10)
    async with pool.acquire() as conn:
        await conn.execute(SCHEMA)
    app[POOL] = pool
    yield
    await pool.close()


def main() -> None:
    app = web.Application(client_max_size=16 * 1024 * 1024)
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_post("/webhooks/alertmanager", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
