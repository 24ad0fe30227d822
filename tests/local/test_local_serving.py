"""The local servers' own behaviour (local/serving.py)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from local.serving import _Server


@pytest.mark.parametrize(
    ("failure", "traceback_shown"),
    [(ConnectionResetError(104, "reset by peer"), False), (BrokenPipeError(), False), (KeyError("x"), True)],
)
def test_a_client_that_hung_up_prints_no_traceback_but_a_server_fault_does(
    capsys: pytest.CaptureFixture[str], failure: Exception, traceback_shown: bool
) -> None:
    server = _Server(("127.0.0.1", 0), BaseHTTPRequestHandler)
    try:
        # When handling a request fails (socketserver calls handle_error inside its except block)
        try:
            raise failure
        except Exception:
            server.handle_error(None, ("127.0.0.1", 1234))  # type: ignore[arg-type]
    finally:
        server.server_close()

    # Then only a fault of the server's own is printed
    assert ("Traceback" in capsys.readouterr().err) is traceback_shown
