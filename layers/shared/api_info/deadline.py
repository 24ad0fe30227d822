"""An httpx transport whose sockets keep one deadline for a whole exchange with Atlassian.

httpx's timeouts bound each socket operation, so an answer that trickles in a byte at a time never
trips them. Here every connect, TLS handshake, write and read waits at most until the deadline the
caller set (`time_left`), and fails as a timeout once it has passed. No thread is involved: the
socket itself gives up, and httpcore closes a connection whose exchange failed, so nothing is left
hanging on it. Imported only by the Atlassian client, when it first makes its client.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable, Iterable
from typing import Any

import httpcore
import httpx

# What is left of the current deadline in seconds (negative once passed), or None when there is none.
TimeLeft = Callable[[], float | None]


def deadline_transport(tls: ssl.SSLContext, time_left: TimeLeft) -> httpx.HTTPTransport:
    """httpx's own transport (its exception mapping and answer streams) over deadline-keeping sockets."""
    transport = httpx.HTTPTransport(verify=tls, trust_env=False)
    # httpx 0.28 cannot be given a network backend (encode/httpx#3749 proposes it), so its connection
    # pool is replaced by the same one, with httpx's default limits, over ours.
    limits = httpx.Limits()
    transport._pool = httpcore.ConnectionPool(
        ssl_context=tls,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=DeadlineBackend(time_left),
    )
    return transport


class DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's socket backend, with every wait cut to what is left of the deadline."""

    def __init__(self, time_left: TimeLeft) -> None:
        self._inner = httpcore.SyncBackend()
        self._time_left = time_left

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        # socket.create_connection would give each of the host's addresses the whole timeout; here
        # they share the deadline. (Resolving the name is the one wait a socket timeout cannot cut.)
        try:
            addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        failure: httpcore.ConnectError | None = None
        for *_, address in addresses:
            wait = self._wait(timeout, httpcore.ConnectTimeout)
            try:
                stream = self._inner.connect_tcp(str(address[0]), port, wait, local_address, socket_options)
            except httpcore.ConnectError as exc:  # refused or unreachable: try the next address
                failure = exc
                continue
            return DeadlineStream(stream, self)
        raise failure or httpcore.ConnectError("the host has no address")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)

    def _wait(self, timeout: float | None, late: type[httpcore.TimeoutException]) -> float | None:
        """The longest a socket operation may wait now; raises `late` once the deadline has passed."""
        left = self._time_left()
        if left is None:
            return timeout
        if left <= 0:
            raise late("the deadline of this exchange with Atlassian has passed")
        return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """One connection's socket; each operation waits at most until the deadline of the current exchange
    (a kept-alive connection serves later exchanges with their own deadlines)."""

    def __init__(self, inner: httpcore.NetworkStream, backend: DeadlineBackend) -> None:
        self._inner = inner
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._backend._wait(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._backend._wait(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # Python's TLS handshake keeps one deadline of its own for all its reads and writes.
        wait = self._backend._wait(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self._inner.start_tls(ssl_context, server_hostname, wait), self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)
