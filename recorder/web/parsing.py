"""Where webhook bodies are parsed: small ones on the event loop, big ones in a process."""

from __future__ import annotations

import asyncio
import copyreg
import dataclasses
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from recorder.core.events import AlertEvent, AlertStatus

T = TypeVar("T")

# Below this a parse takes under a millisecond: a round trip to a process would cost more.
OFF_LOOP_BYTES = 64 * 1024
# Big bodies parsed at the same time; the others queue. Parsing holds several times a
# body's size in memory, so this bounds memory, not only CPU.
MAX_BIG_PARSES = 1


class ParserUnavailable(Exception):
    """A parsing worker process died (killed for memory, say) or could not start; the
    sender should retry."""


class BodyParser:
    """Runs an adapter's parse function where it cannot stall the event loop.

    A body of `off_loop_bytes` or more is parsed in one of `workers` processes, started
    on first use, and its result (or error) comes back pickled. Not in a thread: the
    adapters validate a body in one pydantic-core call, which holds the GIL throughout
    (over 100 ms for 16 MiB), and a parse in Python builds enough objects that the cyclic
    garbage collector, which also holds the GIL, runs full passes over the whole heap
    (50-200 ms each were measured in the parsing thread). In a process neither touches
    the loop: this process only unpickles the result (about 50 ms for 10,000 alerts,
    in short steps, as each event is rebuilt in Python), so /healthz and other requests
    are served while a 16 MiB alert group is validated. Alert events travel as their
    field values (see _prepare_worker).
    """

    def __init__(
        self, *, workers: int = MAX_BIG_PARSES, off_loop_bytes: int = OFF_LOOP_BYTES
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.off_loop_bytes = off_loop_bytes
        self._workers = workers
        # Only starts the processes, which takes a while, off the loop.
        self._threads = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parse-start")
        self._processes: ProcessPoolExecutor | None = None
        self._processes_starting = asyncio.Lock()

    async def run(self, size: int, parse: Callable[[bytes], T], body: bytes) -> T:
        """`parse(body)`, off the loop when the body is big. `parse` and what it raises
        must pickle (module-level functions, adapter errors)."""
        if size < self.off_loop_bytes:
            return parse(body)
        loop = asyncio.get_running_loop()
        pool = await self._process_pool()
        try:
            return await loop.run_in_executor(pool, parse, body)
        except BrokenProcessPool:
            self._processes = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise ParserUnavailable("a body parsing process died; retry") from None

    async def _process_pool(self) -> ProcessPoolExecutor:
        async with self._processes_starting:
            if self._processes is None:
                # spawn: forking a process that runs threads (aiosqlite, this pool) is
                # unsafe. Workers start on first submit and starting one takes a while:
                # start them all from a thread, not from the loop.
                pool = ProcessPoolExecutor(
                    max_workers=self._workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_prepare_worker,
                )
                loop = asyncio.get_running_loop()
                try:
                    await loop.run_in_executor(self._threads, _start_workers, pool, self._workers)
                except (BrokenProcessPool, OSError):  # no process, or one that died starting
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise ParserUnavailable("no body parsing process could start; retry") from None
                self._processes = pool
            return self._processes

    def close(self) -> None:
        """Stop the workers once the parses under way have finished."""
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._processes is not None:
            self._processes.shutdown(wait=False, cancel_futures=True)


def _start_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    for future in [pool.submit(int) for _ in range(workers)]:
        future.result()


def _prepare_worker() -> None:
    """Run in each worker process: pickle alert events as their field values.

    A slotted dataclass pickles through its Python __getstate__ and __setstate__, and
    its status enum through a call to the enum class: rebuilding 10,000 events from
    plain values in one function call each takes about half as long in this process.
    """
    copyreg.pickle(AlertEvent, _reduce_event)


_EVENT_FIELDS = tuple(field.name for field in dataclasses.fields(AlertEvent))
_STATUS_AT = _EVENT_FIELDS.index("status")
_STATUSES = {status.value: status for status in AlertStatus}


def _reduce_event(event: AlertEvent) -> tuple[Callable[..., AlertEvent], tuple[Any, ...]]:
    values = [getattr(event, name) for name in _EVENT_FIELDS]
    values[_STATUS_AT] = event.status.value
    return _rebuild_event, tuple(values)


def _rebuild_event(*values: Any) -> AlertEvent:
    fields = list(values)
    fields[_STATUS_AT] = _STATUSES[fields[_STATUS_AT]]
    return AlertEvent(*fields)
