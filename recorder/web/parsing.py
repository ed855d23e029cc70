"""Where webhook bodies are parsed: small ones on the event loop, big ones in a process."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from recorder.web import parse_worker

T = TypeVar("T")

# Below this a parse takes under a millisecond: a round trip to a process would cost more.
OFF_LOOP_BYTES = 64 * 1024
# Big bodies parsed at the same time; the others queue. Parsing holds several times a
# body's size in memory, so this bounds memory, not only CPU.
MAX_BIG_PARSES = 1
# At shutdown, how long a worker start under way is let finish before it is abandoned.
START_WAIT_S = 10.0


class ParserUnavailable(Exception):
    """A parsing worker process died (killed for memory, say) or could not start; the
    sender should retry."""


class BodyParser:
    """Runs an adapter's parse function where it cannot stall the event loop.

    A body of `off_loop_bytes` or more is parsed in one of `workers` processes, started
    by `start()` (`recorder serve` calls it at start-up) or else on first use, and its
    result (or error) comes back pickled. Not in a thread: the adapters validate a body
    in one pydantic-core call, which holds the GIL throughout (over 100 ms for 16 MiB),
    and a parse in Python builds enough objects that the cyclic garbage collector, which
    also holds the GIL, runs full passes over the whole heap (50-200 ms each were
    measured in the parsing thread). In a process neither touches the loop: this process
    only unpickles the result (about 50 ms for 10,000 alerts, in short steps, as each
    event is rebuilt in Python), so /healthz and other requests are served while a
    16 MiB alert group is validated. Alert events travel as their field values (see
    recorder.web.parse_worker, the only module of the daemon's own a worker imports
    besides the adapters and the core events). After each big parse the worker gives
    the memory it used back to the system.
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
        self._starting: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start the worker processes now, in the background (call on the loop): the
        first big body then does not wait for a new interpreter, nor share the CPU
        with its start. A start that fails is retried by the first big body."""
        if self._starting is None:
            self._starting = asyncio.get_running_loop().create_task(
                self._start_quietly(), name="body-parser-start"
            )

    @property
    def starting(self) -> bool:
        """True while a start begun by `start()` is under way."""
        return self._starting is not None and not self._starting.done()

    async def _start_quietly(self) -> None:
        with contextlib.suppress(ParserUnavailable):
            await self._process_pool()

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
        finally:
            # Queued behind the parse, on the worker that is free first (with one
            # worker: the one that parsed); its answer is not waited for.
            with contextlib.suppress(RuntimeError, BrokenProcessPool):  # shut down
                pool.submit(parse_worker.release)

    async def _process_pool(self) -> ProcessPoolExecutor:
        async with self._processes_starting:
            if self._processes is None:
                # spawn: forking a process that runs threads (aiosqlite, this pool) is
                # unsafe. Workers start on first submit and starting one takes a while:
                # start them all from a thread, not from the loop.
                pool = ProcessPoolExecutor(
                    max_workers=self._workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=parse_worker.prepare,
                )
                loop = asyncio.get_running_loop()
                try:
                    await loop.run_in_executor(self._threads, _start_workers, pool, self._workers)
                except (BrokenProcessPool, OSError):  # no process, or one that died starting
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise ParserUnavailable("no body parsing process could start; retry") from None
                except asyncio.CancelledError:  # closing while starting
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
                self._processes = pool
            return self._processes

    async def aclose(self) -> None:
        """Stop the workers and wait, off the loop, until they and the pool's own thread
        have ended: a pool still shutting down when the interpreter exits races the
        exit handler of concurrent.futures (a traceback on stderr, "Bad file
        descriptor"). A start under way is let finish first (bounded)."""
        if self._starting is not None and not self._starting.done():
            await asyncio.wait({self._starting}, timeout=START_WAIT_S)
        pool = self._processes
        if pool is not None:
            self._processes = None
            shutdown = functools.partial(pool.shutdown, wait=True, cancel_futures=True)
            await asyncio.get_running_loop().run_in_executor(self._threads, shutdown)
        self.close()  # and a start that did not finish in time is abandoned

    def close(self) -> None:
        """Stop the workers once the parses under way have finished."""
        if self._starting is not None:
            self._starting.cancel()
        self._threads.shutdown(wait=False, cancel_futures=True)
        if self._processes is not None:
            self._processes.shutdown(wait=False, cancel_futures=True)


def _start_workers(pool: ProcessPoolExecutor, workers: int) -> None:
    for future in [pool.submit(parse_worker.ready) for _ in range(workers)]:
        future.result()
