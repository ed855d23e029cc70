"""The ceiling for bench/ingest.py: a minimal aiohttp + asyncpg webhook handler.

It does the same transactional work as the recorder with nothing else: parse the JSON,
then in one transaction upsert the incident for the group key and insert the alerts
(one batched statement), answer 200. No validation, dedup decisions, logging or metrics.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import datetime

import asyncpg
from aiohttp import web

SCHEMA = """
CREATE TABLE IF NOT EXISTS b_incidents (
    id bigserial PRIMARY KEY,
    group_key text NOT NULL UNIQUE,
    labels jsonb NOT NULL,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS b_alerts (
    incident_id bigint NOT NULL REFERENCES b_incidents(id),
    fingerprint text NOT NULL,
    starts_at timestamptz NOT NULL,
    status text NOT NULL,
    labels jsonb NOT NULL,
    PRIMARY KEY (incident_id, fingerprint, starts_at)
);
"""

UPSERT = """
INSERT INTO b_incidents (group_key, labels, started_at) VALUES ($1, $2::jsonb, $3::timestamptz)
ON CONFLICT (group_key) DO UPDATE SET updated_at = now()
RETURNING id
"""
INSERT_ALERTS = """
INSERT INTO b_alerts (incident_id, fingerprint, starts_at, status, labels)
SELECT $1, f, s::timestamptz, st, l::jsonb
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS t(f, s, st, l)
ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET status = EXCLUDED.status
"""

POOL = web.AppKey("pool", asyncpg.Pool)


async def handle(request: web.Request) -> web.Response:
    data = json.loads(await request.read())
    alerts = data["alerts"]
    async with request.app[POOL].acquire() as conn, conn.transaction():
        incident_id = await conn.fetchval(
            UPSERT,
            data["groupKey"],
            json.dumps(data["commonLabels"]),
            datetime.fromisoformat(alerts[0]["startsAt"].replace("Z", "+00:00")),
        )
        await conn.execute(
            INSERT_ALERTS,
            incident_id,
            [a["fingerprint"] for a in alerts],
            [a["startsAt"] for a in alerts],
            [a["status"] for a in alerts],
            [json.dumps(a["labels"]) for a in alerts],
        )
    return web.json_response({"status": "stored"})


async def pool_ctx(app: web.Application):  # type: ignore[no-untyped-def]
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=10)
    async with pool.acquire() as conn:
        await conn.execute(SCHEMA)
    app[POOL] = pool
    yield
    await pool.close()


def main() -> None:
    app = web.Application(client_max_size=1024 * 1024)
    app.cleanup_ctx.append(pool_ctx)
    app.router.add_post("/webhooks/alertmanager", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)


if __name__ == "__main__":
    main()
