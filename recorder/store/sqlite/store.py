"""Embedded SQLite backend: one writer connection (BEGIN IMMEDIATE), one reader, WAL mode."""

from __future__ import annotations

from recorder.store.sqlite.driver_errors import BACKEND
from recorder.store.sqlite.incidents import SqliteIncidents
from recorder.store.sqlite.paging import SqlitePaging
from recorder.store.sqlite.reads import SqliteReads
from recorder.store.sqlite.samples import SqliteSamples
from recorder.store.sqlite.schema import SqliteSchema


class SqliteStore(SqliteSchema, SqliteIncidents, SqlitePaging, SqliteReads, SqliteSamples):
    """Store in one SQLite file (`connection.py`): one base class per role, each in the
    module named for it."""

    backend = BACKEND
