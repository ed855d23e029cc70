"""Where webhook bodies are parsed: small ones on the event loop, big ones in worker threads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
A = TypeVar("A")

# Below this a parse takes well under a millisecond: a thread hop would cost more.
OFF_LOOP_BYTES = 64 * 1024
# Big bodies parsed at the same time; the others wait their turn. Parsing holds several
# times a body's size in memory, so this bounds memory, not only CPU.
MAX_BIG_PARSES = 2


class BodyParser:
    """Runs an adapter's parse function where it cannot stall the event loop.

    A body of OFF_LOOP_BYTES or more is parsed in one of `workers` threads, so /healthz
    and every other request keep being served while a 16 MiB alert group is validated
    (the adapters decode with a Python hook per JSON object, which lets the loop take the
    GIL back every few milliseconds). Bodies beyond `workers` queue for a thread.
    """

    def __init__(self, *, workers: int = MAX_BIG_PARSES, off_loop_bytes: int = OFF_LOOP_BYTES):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.off_loop_bytes = off_loop_bytes
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parse")

    async def run(self, size: int, parse: Callable[[A], T], argument: A) -> T:
        """`parse(argument)`, in a worker thread when `size` (the body's bytes) is big."""
        if size < self.off_loop_bytes:
            return parse(argument)
        return await asyncio.get_running_loop().run_in_executor(self._executor, parse, argument)

    def close(self) -> None:
        """Stop the worker threads once the parses under way have finished."""
        self._executor.shutdown(wait=False, cancel_futures=True)
