"""PostgreSQL backend, one module per concept (see store.py for how they compose)."""

from __future__ import annotations

from recorder.store.postgres.store import PostgresStore

__all__ = ["PostgresStore"]
