"""PostgreSQL backend, one module per concept (see store.py for how they compose)."""

from __future__ import annotations

from recorder.store.postgres.locks import lock_id
from recorder.store.postgres.store import PostgresStore

__all__ = ["PostgresStore", "lock_id"]
