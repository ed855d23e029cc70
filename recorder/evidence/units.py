"""The well-known signals the report's figures are built from, and their units."""

from __future__ import annotations

from collections.abc import Mapping

ERROR_RATE = "error_rate"
"""Well-known signal: fraction of failed requests, 0..1."""
ERROR_COUNT = "error_count"
"""Well-known signal: failed requests in the preceding minute."""
POOL_IN_USE = "pool_in_use"
"""Well-known signal: database pool connections in use."""
POOL_MAX = "pool_max"
"""Well-known signal: database pool size."""

FRACTION = "fraction"
SECONDS = "seconds"
PER_MINUTE = "failed requests/minute"
REQUESTS = "failed requests"
CONNECTIONS = "connections"
UNITS: Mapping[str, str] = {
    ERROR_RATE: FRACTION,
    ERROR_COUNT: PER_MINUTE,
    POOL_IN_USE: CONNECTIONS,
    POOL_MAX: CONNECTIONS,
}
"""The unit each well-known signal is measured in (tables and charts print in it)."""


def unit_of(signal: str) -> str:
    """The unit a well-known signal is measured in; "" for any other signal."""
    return UNITS.get(signal, "")
