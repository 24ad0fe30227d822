"""The local stack, started once for the end-to-end tests, exactly as `make run` starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
SETTINGS = (
    "FORGE_APP_ID",
    "FORGE_JWKS_URL",
    "ATLASSIAN_API_URL",
    "ALLOW_INSECURE_LOOPBACK",
    "AWS_ENDPOINT_URL",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=30)

    def headers(self, account: str = "admin", installation: str = "acme") -> dict[str, str]:
        answer = self.http.post("/dev/token", params={"account": account, "installation": installation})
        answer.raise_for_status()
        headers: dict[str, str] = answer.json()["headers"]
        return headers

    def request(self, method: str, path: str, *, account: str = "admin", **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, headers=self.headers(account), **kwargs)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env["PORT"] = str(port)
    log = tmp_path_factory.mktemp("stack") / "stack.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "local"], cwd=REPO, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{url}/.well-known/jwks.json", timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                tail = log.read_text()[-3000:]
                raise RuntimeError("the local stack did not serve within 30 s:\n" + tail) from None
            time.sleep(0.2)
    yield Stack(url)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
