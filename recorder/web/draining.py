"""Graceful shutdown of the web app: readiness goes off, bodies still arriving get a 503.

On SIGTERM `serve` calls `begin_draining` (so /readyz answers 503 and load balancers
stop sending), then stops the listener. When aiohttp shuts the app down, every request
whose body is still arriving is answered 503 with `Connection: close` at once, instead
of waiting for a slow sender until the shutdown timeout and then failing it; its sender
(Alertmanager, PagerDuty) retries. Requests whose bodies have arrived run to completion
within `shutdown_timeout`.
"""

from __future__ import annotations

from aiohttp import web

from recorder.web.inflight import ShuttingDown
from recorder.web.keys import DRAINING, LOG
from recorder.web.problems import Handler, problem_response


def begin_draining(app: web.Application) -> None:
    """From now on /readyz answers 503; nothing else changes yet."""
    app[DRAINING].draining = True


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
