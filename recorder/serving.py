"""`recorder serve`: start, bind, say so, and shut down gracefully; startup fails fast.

Exit codes (the contract's "Install and run"): 0 after a clean shutdown, 2 configuration
error, 3 storage that cannot work as configured, 4 the address cannot be bound. Each
failure is one line on stderr naming the cause and what to do, never a traceback.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import signal
import socket
import sys
from dataclasses import dataclass

import structlog
from aiohttp import web

from recorder import __version__, listening
from recorder.settings import Settings, mask_url
from recorder.store.errors import StorageMisconfigured
from recorder.store.factory import open_store
from recorder.web.app import create_app
from recorder.web.draining import begin_draining, wait_until_no_idle

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CONFIG = 2
EXIT_STORAGE = 3
EXIT_BIND = 4
# After SIGTERM and shutdown_delay, the listener's close takes at most LISTENER_SETTLE_S:
# the pause for handshakes in progress, then at most FIRST_REQUEST_S for connections with
# no request in flight to send one (deploy/kubernetes budgets for it).
LISTENER_SETTLE_S = 0.5
FIRST_REQUEST_S = LISTENER_SETTLE_S - listening.HANDSHAKE_S


@dataclass(frozen=True)
class StartupFailure(Exception):
    """Why `serve` cannot start: the exit code and the one line that says what to do."""

    code: int
    message: str


def fail_line(message: str) -> str:
    """The one stderr line for a failure: prefixed, with newlines folded."""
    folded = " ".join(part.strip() for part in message.splitlines() if part.strip())
    return f"recorder: {folded.replace(': ;', ':')}"


def describe_bind_error(listen: str, exc: OSError) -> str:
    """What went wrong binding `listen`, and what to do about it."""
    if isinstance(exc, socket.gaierror):
        return (
            f"cannot bind {listen}: unknown host ({exc.strerror}); set RECORDER_LISTEN or "
            "--listen to an address of this machine, e.g. 0.0.0.0:9470"
        )
    if exc.errno == errno.EADDRINUSE:
        return (
            f"cannot bind {listen}: the address is already in use; stop the other process "
            "or choose another port with RECORDER_LISTEN or --listen"
        )
    if exc.errno in {errno.EACCES, errno.EPERM}:
        return (
            f"cannot bind {listen}: permission denied; use a port above 1023 or grant "
            "CAP_NET_BIND_SERVICE"
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return (
            f"cannot bind {listen}: the address is not on this machine; set RECORDER_LISTEN "
            "or --listen to one of its addresses, e.g. 0.0.0.0:9470"
        )
    return f"cannot bind {listen}: {exc.strerror or exc}; check RECORDER_LISTEN or --listen"


def run_serve(settings: Settings, *, migrate: bool) -> int:
    """Run the daemon until SIGTERM or SIGINT; return the process exit code."""
    try:
        return asyncio.run(_serve(settings, migrate=migrate))
    except StartupFailure as failure:
        print(fail_line(failure.message), file=sys.stderr)
        return failure.code
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        return EXIT_OK
    except Exception as exc:  # the process boundary: one line, traceback only on debug
        structlog.get_logger("recorder").debug("serve_failed", exc_info=True)
        print(
            fail_line(
                f"unexpected error: {type(exc).__name__}: {exc}; run with --log-level debug "
                "for the traceback and report it"
            ),
            file=sys.stderr,
        )
        return EXIT_FAILED


async def _serve(settings: Settings, *, migrate: bool) -> int:
    try:
        store = open_store(settings.database_url)
    except ValueError as exc:
        raise StartupFailure(EXIT_CONFIG, f"RECORDER_DATABASE_URL: {exc}") from None
    app = create_app(settings, store=store, migrate=migrate, start_parser=True)
    runner = web.AppRunner(
        app,
        handle_signals=False,
        access_log=None,
        shutdown_timeout=settings.shutdown_timeout.total_seconds(),
    )
    try:
        await runner.setup()
    except StorageMisconfigured as exc:
        await runner.cleanup()
        raise StartupFailure(EXIT_STORAGE, f"{exc}; {exc.hint}") from None
    log: structlog.typing.FilteringBoundLogger = structlog.get_logger("recorder")
    try:
        try:
            sockets = listening.bind(settings.host, settings.port)
        except OSError as exc:
            raise StartupFailure(EXIT_BIND, describe_bind_error(settings.listen, exc)) from None
        server = runner.server
        assert server is not None  # set up above
        loop = asyncio.get_running_loop()
        listeners = [
            await loop.create_server(server, sock=sock, backlog=listening.BACKLOG)
            for sock in sockets
        ]
        # What start-up built (modules, schemas, templates, pools) lives as long as the
        # process: set apart from the collector once, so that a full collection while a
        # storm is in memory scans only what requests built. A one-time move, as the
        # CPython documentation describes for a freeze; collection itself stays on.
        gc.collect()
        gc.freeze()
        print(
            f"recorder {__version__} listening on http://{settings.listen} "
            f"(storage: {mask_url(settings.database_url)})",
            file=sys.stderr,
            flush=True,
        )
        stop = await _wait_for_signal()
        log.info(
            "shutdown_started", signal=stop, timeout_s=settings.shutdown_timeout.total_seconds()
        )
        await _drain(settings, app, server, list(zip(listeners, sockets, strict=True)), log)
    finally:
        await runner.cleanup()
    log.info("shutdown_complete")
    return EXIT_OK


async def _drain(
    settings: Settings,
    app: web.Application,
    server: web.Server,
    listeners: list[tuple[asyncio.Server, socket.socket]],
    log: structlog.typing.FilteringBoundLogger,
) -> None:
    """From SIGTERM to closing storage: readiness off, listener closed without resetting
    anything the kernel queued, connections accepted last given a moment to speak."""
    begin_draining(app)
    # Listener open, /readyz 503, every response closes its connection: load balancers
    # stop sending and kept-alive clients are told to reconnect (elsewhere).
    if settings.shutdown_delay.total_seconds() > 0:
        await asyncio.sleep(settings.shutdown_delay.total_seconds())
    sockets = [sock for _, sock in listeners]
    filtered = listening.refuse_new_connections(sockets)
    await asyncio.sleep(listening.HANDSHAKE_S)
    loop = asyncio.get_running_loop()
    handed: list[asyncio.Task[object]] = []

    def serve(conn: socket.socket) -> None:
        handed.append(loop.create_task(loop.connect_accepted_socket(server, conn)))

    backlog = sum(
        listening.close_keeping_backlog(listener, [sock], serve) for listener, sock in listeners
    )
    await asyncio.gather(*handed, return_exceptions=True)
    idle = await wait_until_no_idle(app, server, FIRST_REQUEST_S)
    log.info("listener_closed", syn_filter=filtered, backlog_accepted=backlog, idle_left=idle)


async def _wait_for_signal() -> str:
    """Block until SIGTERM or SIGINT; return its name."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[str] = loop.create_future()

    def on_signal(name: str) -> None:
        if not received.done():
            received.set_result(name)

    # Left installed: a repeated signal during shutdown changes nothing.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig.name)
    return await received
