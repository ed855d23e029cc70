"""Domain errors raised by every storage backend; drivers' errors never leak past a store."""

from __future__ import annotations


class StoreError(Exception):
    """Base class for storage failures."""


class StorageUnavailable(StoreError):
    """The database cannot be reached or failed mid-operation; the caller should retry later."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend} storage unavailable: {reason}")
        self.backend = backend
        self.reason = reason


class DataRejected(StoreError):
    """The database refused a value itself (not valid text, too long for an index, out of
    range): retrying the same request cannot succeed, so the caller should not."""

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend} refused a value: {reason}")
        self.backend = backend
        self.reason = reason


class StorageMisconfigured(StorageUnavailable):
    """Storage that cannot work as configured: a database file that cannot be created or
    written, a PostgreSQL role, password or database that does not exist. Retrying does not
    help, so `serve` exits at start; at run time it is answered like any unavailability."""

    def __init__(self, backend: str, reason: str, *, hint: str) -> None:
        super().__init__(backend, reason)
        self.args = (f"{backend} storage cannot work as configured: {reason}",)
        self.hint = hint


class NotMigrated(StoreError):
    """The schema is older than this code expects; run `recorder migrate`."""

    def __init__(self, current: int, expected: int) -> None:
        super().__init__(
            f"database schema is at version {current}, this recorder needs {expected}: "
            "run `recorder migrate`"
        )
        self.current = current
        self.expected = expected


class IncidentNotFound(StoreError):
    """No incident has this id."""

    def __init__(self, incident_id: str) -> None:
        super().__init__(f"incident {incident_id!r} not found")
        self.incident_id = incident_id


class InvalidCursor(StoreError):
    """A list cursor that this store did not issue."""

    def __init__(self, cursor: str) -> None:
        shown = cursor if len(cursor) <= 40 else cursor[:40] + "..."
        super().__init__(f"invalid cursor {shown!r}: use the next_cursor of a listing")
        self.cursor = cursor
