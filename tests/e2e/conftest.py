"""The local stack, started once for the end-to-end tests exactly as `make run` starts it, and Debian's
Chromium driven by Playwright for the settings page.

Tests keep out of each other's way by using a simulated site (installation) of their own. Chromium must
be installed (`apt-get install chromium`, as .ci/run does): without it the browser tests fail, they never
skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright

from local.__main__ import READS

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
# The stack decides these for itself unless they are set: a developer's shell must not redirect it.
# Without these Chromium waits on the network this machine does not have (and cannot sandbox as root).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# A cold container imports its function before it answers: give the page's first calls time.
expect.set_options(timeout=20_000)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Stack:
    def __init__(self, url: str, aws_url: str) -> None:
        self.url = url
        self.aws_url = aws_url  # its moto server: the AWS side, as an operator's tools reach it
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
    with local_stack(tmp_path_factory.mktemp("stack")) as started:
        yield started


@contextlib.contextmanager
def local_stack(log_dir: Path) -> Iterator[Stack]:
    """`python -m local` on a free port, as `make run` starts it; stopped with SIGTERM afterwards."""
    port, moto_port = free_port(), free_port()
    while moto_port == port:
        moto_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in READS}
    env["PORT"], env["MOTO_PORT"] = str(port), str(moto_port)
    log = log_dir / "stack.log"
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
    try:
        yield Stack(url, f"http://127.0.0.1:{moto_port}")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


# --- the browser ------------------------------------------------------------------------------------


def chromium_path() -> str:
    """Debian's Chromium; its absence fails the browser tests instead of skipping them."""
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).is_file():
        pytest.fail(
            "Chromium is not installed, so the browser tests cannot run: `apt-get install chromium` "
            "(.ci/run does), or set CHROMIUM to its path.",
            pytrace=False,
        )
    return path


# Package scope: Playwright's sync API keeps an event loop running in the main thread while it is
# open, and code after the browser tests (the check worker's asyncio.run) must not find one.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def site() -> str:
    """A simulated Jira site of this test's own: nothing another test saved shows up in it."""
    return f"e2e-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(20_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"the page raised JavaScript errors: {errors}"


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
