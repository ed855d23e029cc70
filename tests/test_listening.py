"""The listener's close: queued connections are accepted (not reset), new ones dropped
until the close refuses them."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest

from recorder import listening


async def test_connections_queued_at_close_are_accepted_and_answered() -> None:
    """A connection the kernel completed (request sent, never accepted by the loop) is
    handed over at the close and can still be answered; the port then refuses."""
    sockets = listening.bind("127.0.0.1", 0)
    port = sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    server = await loop.create_server(asyncio.Protocol, sock=sockets[0])
    # Connected and sent while the loop does not run: it waits in the accept queue.
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        handed: list[socket.socket] = []
        assert listening.close_keeping_backlog(server, sockets, handed.append) == 1
        with handed[0] as conn:
            conn.setblocking(True)
            assert conn.recv(100) == b"GET / HTTP/1.1\r\n\r\n"
            conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
        assert client.recv(100) == b"HTTP/1.1 204 No Content\r\n\r\n"  # not reset
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


@pytest.mark.skipif(sys.platform != "linux", reason="socket filters are Linux's")
def test_refusing_new_connections_keeps_those_queued() -> None:
    """After `refuse_new_connections` a new SYN goes unanswered (the sender retries it
    and finds the port closed), while a queued connection still delivers its bytes."""
    (listener,) = listening.bind("127.0.0.1", 0)
    with listener:
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=5) as queued:
            assert listening.refuse_new_connections([listener])
            queued.sendall(b"still delivered")
            with pytest.raises(TimeoutError):
                socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
            listener.setblocking(True)
            conn, _ = listener.accept()
            with conn:
                assert conn.recv(100) == b"still delivered"


def test_bind_reports_a_busy_port() -> None:
    (first,) = listening.bind("127.0.0.1", 0)
    with first, pytest.raises(OSError, match="in use"):
        listening.bind("127.0.0.1", first.getsockname()[1])
