"""Bringing storage up: connect and migrate at start, keep retrying while it is down."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from recorder.store.errors import StorageUnavailable, StoreError
from recorder.store.protocol import Store


@dataclass
class StorageState:
    """Whether storage has been connected and migrated since the process started."""

    ready: bool = False
    last_error: str | None = None

    def require(self, backend: str) -> None:
        """Raise StorageUnavailable until storage has come up once."""
        if not self.ready:
            raise StorageUnavailable(backend, self.last_error or "not connected yet")


async def bring_up(store: Store, state: StorageState, *, migrate: bool) -> None:
    """Connect, then migrate (or check the schema); raises the store's error on failure."""
    await store.start()
    if migrate:
        applied = await store.migrate()
        if applied:
            structlog.get_logger().info("migrations_applied", versions=applied)
    await store.check_ready()
    state.ready = True
    state.last_error = None


async def keep_bringing_up(
    store: Store,
    state: StorageState,
    log: structlog.typing.FilteringBoundLogger,
    *,
    migrate: bool,
    first_delay: float = 0.5,
    max_delay: float = 10.0,
) -> None:
    """Retry `bring_up` with capped backoff until it succeeds; log once per new error."""
    delay = first_delay
    while not state.ready:
        await asyncio.sleep(delay)
        try:
            await bring_up(store, state, migrate=migrate)
        except StoreError as exc:
            if str(exc) != state.last_error:
                log.warning("storage_still_unavailable", error=str(exc), retry_in_s=delay)
            state.last_error = str(exc)
            delay = min(max_delay, delay * 2)
    log.info("storage_ready", backend=store.backend)
