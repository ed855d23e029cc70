"""Liveness and readiness probes."""

from __future__ import annotations

from aiohttp import web

from recorder.store.errors import StoreError
from recorder.web.keys import BODY_PARSER, DRAINING, STORAGE_STATE, STORE
from recorder.web.problems import problem_response


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: the process is up and serving."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """GET /readyz: storage reachable and migrations applied, else 503 saying which.
    Also 503 once shutdown has begun, so load balancers stop sending here, and while
    the body-parsing worker started at startup is starting (a second or so): the first
    storm-sized body then finds it ready."""
    if request.app[DRAINING].draining:
        return problem_response(503, "Not ready", "shutting down")
    state = request.app[STORAGE_STATE]
    if not state.ready:
        return problem_response(
            503, "Not ready", f"storage not ready: {state.last_error or 'starting'}"
        )
    if request.app[BODY_PARSER].starting:
        return problem_response(503, "Not ready", "body parsing worker starting")
    try:
        await request.app[STORE].check_ready()
    except StoreError as exc:
        return problem_response(503, "Not ready", str(exc))
    return web.json_response({"status": "ready", "backend": request.app[STORE].backend})
