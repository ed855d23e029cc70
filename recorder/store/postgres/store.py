"""PostgreSQL backend on an asyncpg pool: one transaction and few round trips per write."""

from __future__ import annotations

from recorder.store.postgres.incidents import PostgresIncidents
from recorder.store.postgres.paging import PostgresPaging
from recorder.store.postgres.pool import BACKEND
from recorder.store.postgres.reads import PostgresReads
from recorder.store.postgres.samples import PostgresSamples
from recorder.store.postgres.schema import PostgresSchema


class PostgresStore(
    PostgresSchema, PostgresIncidents, PostgresPaging, PostgresReads, PostgresSamples
):
    """Store in PostgreSQL through an asyncpg pool (`pool.py`): one base class per role,
    each in the module named for it."""

    backend = BACKEND
