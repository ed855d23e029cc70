"""How asyncpg's errors are classified: unavailable, refused data, misconfigured, and
when a connection must be dropped or a call retried."""

from __future__ import annotations

import asyncio

import asyncpg

# Errors meaning "the server cannot be used right now": the caller should retry later.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError and refused/reset connections
    asyncpg.PostgresConnectionError,  # class 08, and "connection closed mid-operation"
    asyncpg.InterfaceError,  # closed connection or pool
    asyncpg.InternalClientError,  # protocol state broken by a dying connection
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutdown, CannotConnectNow, cancel
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # 28: bad role or password
    asyncpg.exceptions.InvalidCatalogNameError,  # 3D000: the database does not exist
)
# Errors about a value itself (class 22 data exceptions: NUL or invalid text, numbers and
# times out of range; class 54 program limits: an index entry over 2704 bytes). asyncpg
# raises DataError too when it cannot encode an argument on the client side.
DATA_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DataError,
    asyncpg.exceptions.ProgramLimitExceededError,
)
# The subset that no retry can fix: the server answered, and refused these credentials.
MISCONFIGURED_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # 28000, 28P01
    asyncpg.exceptions.InvalidCatalogNameError,  # 3D000
)
MISCONFIGURED_HINT = (
    "create the role and database, or correct user, password and database name in "
    "RECORDER_DATABASE_URL"
)
# After these the connection's state is unknown: terminate it rather than reuse it.
ABORT_ERRORS: tuple[type[BaseException], ...] = (*UNAVAILABLE_ERRORS, asyncio.CancelledError)
# Raised when a pooled connection died while idle; what failed on it took no effect
# and is retried once. Timeouts are not among them: retrying would double the wait.
STALE_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    # A killed backend's FATAL message can leave the client protocol mid-state.
    asyncpg.InternalClientError,
)
