"""Requests in flight and whether the app is draining (state only; see web/draining.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web


class ShuttingDown(Exception):
    """Set on the body stream of a request that was still arriving at shutdown."""

    def __init__(self) -> None:
        super().__init__("the recorder is shutting down")


@dataclass
class Draining:
    """Shutdown state of one app: whether it is draining, and the requests in flight."""

    draining: bool = False
    # Keyed by id(): requests are mappings, hence unhashable.
    in_flight: dict[int, web.Request] = field(default_factory=dict)

    def abort_unfinished_bodies(self) -> int:
        """Fail the body reads of requests whose body has not fully arrived; how many."""
        self.draining = True
        aborted = 0
        for request in list(self.in_flight.values()):
            if not request.content.is_eof():
                request.content.set_exception(ShuttingDown())
                aborted += 1
        return aborted
