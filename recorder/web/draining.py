"""Graceful shutdown of the web app: readiness goes off, bodies still arriving get a 503.

On SIGTERM `serve` calls `begin_draining` (so /readyz answers 503 and load balancers
stop sending, and every response closes its connection), then closes the listener (see
recorder/listening.py) and `wait_until_no_idle` gives connections that have not sent
their request yet a moment to do so. When aiohttp shuts the app down, every request
whose body is still arriving is answered 503 with `Connection: close` at once, instead
of waiting for a slow sender until the shutdown timeout and then failing it; its sender
(Alertmanager, PagerDuty) retries. Requests whose bodies have arrived run to completion
within `shutdown_timeout`.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from recorder.web.inflight import ShuttingDown
from recorder.web.keys import DRAINING, LOG
from recorder.web.problems import Handler, problem_response

IDLE_POLL_S = 0.01


def begin_draining(app: web.Application) -> None:
    """From now on /readyz answers 503 and every response closes its connection."""
    app[DRAINING].draining = True


async def wait_until_no_idle(app: web.Application, server: web.Server, within: float) -> int:
    """After the listener closed: wait, at most `within` seconds, until no connection is
    idle. A connection accepted just before the close sends its request and is answered
    (with `Connection: close`, as everything while draining); a kept-alive one is used
    once more the same way, or stays idle. aiohttp then closes what is still idle, with
    a FIN: a client that sees it before sending opens a new connection instead.
    Returns how many were still idle."""
    state = app[DRAINING]
    deadline = time.monotonic() + within
    # Polled: aiohttp has no event for "a connection began a request or closed".
    while (idle := state.idle(server.connections)) and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(IDLE_POLL_S)
    return idle


async def on_shutdown(app: web.Application) -> None:
    """aiohttp's shutdown signal: the listener is closed, in-flight work is about to be
    awaited (up to the shutdown timeout). Bodies still arriving would hold it up."""
    state = app[DRAINING]
    aborted = state.abort_unfinished_bodies()
    app[LOG].info(
        "shutdown_draining",
        in_flight=sorted(r.path for r in state.in_flight.values()),
        bodies_aborted=aborted,
    )


@web.middleware
async def drain_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Track requests in flight; answer 503 for one whose body shutdown cut short, and
    close the connection after each response once draining has begun."""
    state = request.app[DRAINING]
    state.in_flight[id(request)] = request
    try:
        if state.bodies_cut and not request.content.is_eof():
            raise ShuttingDown  # its body would never arrive: aiohttp stopped reading
        response = await handler(request)
        if state.draining:
            # Clients reconnect for their next request instead of reusing a connection
            # that is about to close under them; once the listener is closed they are
            # refused cleanly and retry elsewhere.
            response.force_close()
        return response
    except ShuttingDown:
        response = problem_response(
            503,
            "Shutting down",
            "the recorder is shutting down and did not store this request; retry",
            headers={"Retry-After": "1", "Connection": "close"},
        )
        # The rest of the body is never read: let aiohttp close, not linger over it.
        request.content.feed_eof()
        return response
    finally:
        state.in_flight.pop(id(request), None)
