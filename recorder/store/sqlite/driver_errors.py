"""How sqlite3's errors become domain errors, at open and on every call."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

from recorder.store.errors import DataRejected, StorageMisconfigured, StorageUnavailable, StoreError

BACKEND = "sqlite"
# Primary result codes meaning "the database cannot be used right now", not "bad SQL".
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)


@contextlib.contextmanager
def translated_errors() -> Iterator[None]:
    """Turn sqlite3 errors into domain errors; the driver's never leak out."""
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(exc, sqlite3.OperationalError) and (
            code is None or code & 0xFF in _UNAVAILABLE_CODES
        ):
            raise StorageUnavailable(BACKEND, f"{type(exc).__name__}: {exc}") from exc
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
            raise StorageUnavailable(BACKEND, "connection is closed") from exc
        if isinstance(exc, sqlite3.DataError):  # SQLITE_TOOBIG and the like
            raise DataRejected(BACKEND, f"{type(exc).__name__}: {exc}") from exc
        raise StoreError(f"sqlite rejected the operation: {type(exc).__name__}: {exc}") from exc
    except UnicodeEncodeError as exc:  # binding text with a lone surrogate
        raise DataRejected(BACKEND, f"text that is not valid Unicode: {exc.reason}") from exc
    except OSError as exc:
        raise StorageUnavailable(BACKEND, f"{type(exc).__name__}: {exc}") from exc


# Opening the file failed for good: it cannot be created, written, or is no database.
_MISCONFIGURED_CODES = frozenset(
    {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PERM}
)


@contextlib.contextmanager
def misconfiguration_at_open(path: str) -> Iterator[None]:
    """At open, a path that cannot be created or written is a configuration error."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(exc, OSError) or (code is not None and code & 0xFF in _MISCONFIGURED_CODES):
            raise StorageMisconfigured(
                BACKEND,
                f"cannot create or write {path}: {type(exc).__name__}: {exc}",
                hint="point RECORDER_DATABASE_URL at a SQLite file the recorder's user can "
                "create and write (its directory is created if missing)",
            ) from exc
        raise
