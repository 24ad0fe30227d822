"""Start and stop of the local HTTP servers (gateway, Atlassian simulator, test JWKS): one way, here."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OneEntryHandler(BaseHTTPRequestHandler):
    """A request handler whose every method goes to `_serve`, where the server routes it."""

    def _serve(self) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (a reset while its connection waited for the next request) is nothing
        the server did wrong: no traceback on the terminal for it, as a real server logs none."""
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class BackgroundServer:
    """A ThreadingHTTPServer on a daemon thread: `start()` returns its URL, `stop()` ends it.

    Subclasses give `_handler()`; port 0 picks a free one. `backlog`: socketserver listens with 5, and a
    burst of connections beyond that waits for a SYN retry (1 s) or is reset by the kernel, which no
    real server does; the kernel caps it at net.core.somaxconn.
    """

    backlog = 128

    def __init__(self, host: str, port: int, name: str) -> None:
        self.host = host
        self.port = port
        self._name = name
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> str:
        """Start serving in a daemon thread; returns the base URL."""
        server_class = type("Server", (_Server,), {"request_queue_size": self.backlog})
        self._server = server_class((self.host, self.port), self._handler())
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name=self._name, daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
