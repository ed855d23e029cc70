"""The listening sockets of `serve`, closed so that no connection the kernel took is reset.

Closing a listening socket resets (RST) every connection still in its accept queue: the
kernel completed the handshake and may have acknowledged a whole request, but the
process had not accepted it yet. Under load that queue is rarely empty, so a plain close
turns some requests into "connection reset by peer" (and a retry) instead of a refusal
or an answer. `serve` therefore binds its own sockets and closes them in three steps:

1. `refuse_new_connections`: a socket filter drops new SYNs (Linux; elsewhere a no-op).
   Their senders retransmit the SYN after about a second, find no listener and are
   refused: a clean "connection refused" that every client retries elsewhere.
2. A short pause (`HANDSHAKE_S`) lets handshakes already answered complete.
3. `close_keeping_backlog`: every connection left in the accept queue is accepted, in
   one synchronous sweep with the close, and handed to the HTTP server like any other.
"""

from __future__ import annotations

import asyncio
import ctypes
import socket
from collections.abc import Callable, Iterable

BACKLOG = 128
HANDSHAKE_S = 0.05

# SO_ATTACH_FILTER with a classic BPF program that sees the TCP header at offset 0:
#   ldb [13]; and #(SYN|ACK); jeq #SYN, drop, keep
_SO_ATTACH_FILTER = 26
_BPF_LD_B_ABS = 0x30
_BPF_ALU_AND_K = 0x54
_BPF_JEQ_K = 0x15
_BPF_RET_K = 0x06
_TCP_FLAGS_OFFSET = 13
_SYN, _ACK = 0x02, 0x10


class _Instruction(ctypes.Structure):
    _fields_ = (
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    )


class _Program(ctypes.Structure):
    _fields_ = (("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Instruction)))


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address `host` resolves to (as asyncio would bind
    them); raises OSError (socket.gaierror for an unknown host) after closing any."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def refuse_new_connections(sockets: Iterable[socket.socket]) -> bool:
    """Drop new SYNs on `sockets`, keep every other packet (handshakes in progress,
    connections queued); False where the platform has no socket filters."""
    program = (_Instruction * 5)(
        _Instruction(_BPF_LD_B_ABS, 0, 0, _TCP_FLAGS_OFFSET),
        _Instruction(_BPF_ALU_AND_K, 0, 0, _SYN | _ACK),
        _Instruction(_BPF_JEQ_K, 0, 1, _SYN),
        _Instruction(_BPF_RET_K, 0, 0, 0),
        _Instruction(_BPF_RET_K, 0, 0, 0xFFFFFFFF),
    )
    fprog = _Program(len(program), program)
    try:
        for sock in sockets:
            sock.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER, bytes(fprog))
    except OSError:
        return False
    return True


def close_keeping_backlog(
    server: asyncio.Server,
    sockets: Iterable[socket.socket],
    serve: Callable[[socket.socket], object],
) -> int:
    """Accept whatever is queued on `sockets`, close the listener in the same
    synchronous step (nothing runs in between), then hand each accepted connection to
    `serve`; how many there were."""
    accepted: list[socket.socket] = []
    for sock in sockets:
        while True:
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError):
                break
            except ConnectionAbortedError:
                continue
            except OSError:  # out of file descriptors: the rest cannot be saved
                break
            conn.setblocking(False)
            accepted.append(conn)
    server.close()
    for conn in accepted:
        serve(conn)
    return len(accepted)
