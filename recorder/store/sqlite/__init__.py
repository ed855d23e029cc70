"""SQLite backend, one module per concept (see store.py for how they compose)."""

from __future__ import annotations

from recorder.store.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
