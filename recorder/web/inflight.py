"""Requests in flight and whether the app is draining (state only; see web/draining.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.web_protocol import RequestHandler


class ShuttingDown(Exception):
    """Set on the body stream of a request that was still arriving at shutdown."""

    def __init__(self) -> None:
        super().__init__("the recorder is shutting down")


@dataclass
class Draining:
    """Shutdown state of one app: whether it is draining, and the requests in flight."""

    draining: bool = False
    # Set when bodies still arriving were cut short: aiohttp reads no more bytes from any
    # connection from then on, so a request starting later must not wait for its body.
    bodies_cut: bool = False
    # Keyed by id(): requests are mappings, hence unhashable.
    in_flight: dict[int, web.Request] = field(default_factory=dict)

    def idle(self, connections: list[RequestHandler]) -> int:
        """How many of `connections` are open with no request in flight: accepted but
        not yet sent a request, or kept alive since their last response."""
        busy = {id(request.protocol) for request in self.in_flight.values()}
        return sum(1 for conn in connections if id(conn) not in busy and conn.transport is not None)

    def abort_unfinished_bodies(self) -> int:
        """Fail the body reads of requests whose body has not fully arrived; how many."""
        self.draining = True
        self.bodies_cut = True
        aborted = 0
        for request in list(self.in_flight.values()):
            if not request.content.is_eof():
                request.content.set_exception(ShuttingDown())
                aborted += 1
        return aborted
