"""The function pool of the local stack: warm Lambda "containers" (local.container processes) per function.

Started on demand up to a limit, reused while their code is unchanged, replaced when they die, as Lambda
and `sam local` do.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.apigw import ACCOUNT_ID, REGION
from local.cfn import FunctionSpec

log = logging.getLogger("local.gateway")

INIT_SECONDS = 10  # Lambda's limit on a function's init phase
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # where `local` is importable from
# Passed from the gateway's environment to the containers; everything else comes from the template.
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")


def container_env(spec: FunctionSpec, variables: Mapping[str, str]) -> dict[str, str]:
    """The environment of a function's containers: the template's variables and what Lambda sets."""
    # A clean environment, as Lambda's: nothing of the developer's shell (proxies, AWS profiles) leaks in.
    env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.logical_id}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]local",
            # What `sam local` sets; Powertools then leaves X-Ray alone.
            "AWS_SAM_LOCAL": "true",
            "PYTHONPATH": str(PACKAGE_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(variables)
    return env


class InvokeError(Exception):
    """The function failed to give an answer (crash, timeout, unhandled exception, bad response)."""


class _Container:
    """One worker process running one function; answers come back on a pipe that is not its stdout."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], cwd: Path, signature: int) -> None:
        self.signature = signature
        self.warm = False
        self.function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{spec.logical_id}"
        read_fd, write_fd = os.pipe()
        command = [sys.executable, "-m", "local.container", spec.code_uri, spec.handler]
        try:
            # stdout and stderr are inherited: the function's logs go to the terminal.
            self.proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [*command, "--result-fd", str(write_fd)],
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
            )
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._fd = read_fd
        self._buffer = b""

    def invoke(self, event: dict[str, Any], request_id: str, timeout: int) -> dict[str, Any]:
        # What Lambda's runtime API hands the runtime with each invocation.
        request = {
            "event": event,
            "requestId": request_id,
            "deadlineMs": int((time.time() + timeout) * 1000),
            "invokedFunctionArn": self.function_arn,
        }
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        # A cold container first imports the function: Lambda gives init its own time.
        wait = timeout + 1 + (0 if self.warm else INIT_SECONDS)
        answer = json.loads(self._read_line(time.monotonic() + wait))
        self.warm = True
        return answer  # type: ignore[no-any-return]

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if ready:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    raise EOFError("the container exited")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def stop(self, wait: float = 2.0) -> None:
        """Closing stdin ends the worker's loop; kill it if it does not go in time."""
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._fd)


class FunctionPool:
    """Warm containers of one function: started on demand, up to max_size, reused, replaced when they die."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: dict[str, str],
        cwd: Path,
        max_size: int = 4,
        watch: list[Path] | None = None,
    ) -> None:
        self.spec = spec
        self.env = env
        self.cwd = cwd
        self.max_size = max_size
        self.watch = watch or []
        self._idle: list[_Container] = []
        self._all: set[_Container] = set()
        self._cond = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        with self._cond:
            return len(self._all)

    def invoke(self, event: dict[str, Any], request_id: str) -> Any:
        """The handler's return value; InvokeError when the function gave none."""
        container = self._acquire()
        healthy = False
        try:
            answer = container.invoke(event, request_id, self.spec.timeout)
            healthy = not answer.get("fatal")
        except TimeoutError:
            log.error(
                "%s: task timed out after %d s; container stopped", self.spec.logical_id, self.spec.timeout
            )
            raise InvokeError from None
        except (EOFError, OSError, ValueError):
            log.error("%s: the container died during request %s", self.spec.logical_id, request_id)
            raise InvokeError from None
        finally:
            self._release(container, healthy)
        if "error" in answer:
            log.error("%s: invocation failed: %s", self.spec.logical_id, answer["error"].get("errorType"))
            raise InvokeError
        return answer["result"]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            containers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for container in containers:
            container.stop(wait=1.0)

    def _acquire(self) -> _Container:
        signature = self._code_signature()
        with self._cond:
            while True:
                if self._closed:
                    raise InvokeError
                if self._idle:
                    container = self._idle.pop()
                    if container.signature == signature:
                        return container
                    # The code changed since it started: let it go, like `sam local` picks up edits.
                    self._all.discard(container)
                    threading.Thread(target=container.stop, daemon=True).start()
                    continue
                if len(self._all) < self.max_size:
                    break
                self._cond.wait()
            log.info("%s: starting container %d", self.spec.logical_id, len(self._all) + 1)
            try:
                container = _Container(self.spec, self.env, self.cwd, signature)
            except OSError:
                log.exception("%s: could not start a container", self.spec.logical_id)
                raise InvokeError from None
            self._all.add(container)
            return container

    def _release(self, container: _Container, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed and container in self._all:
                self._idle.append(container)
            else:
                self._all.discard(container)
                healthy = False
            self._cond.notify()
        if not healthy:
            threading.Thread(target=container.stop, args=(0.5,), daemon=True).start()

    def _code_signature(self) -> int:
        newest = 0
        for folder, pattern in (
            (self.cwd / self.spec.code_uri, "*.py"),
            *((w, "**/*.py") for w in self.watch),
        ):
            for path in folder.glob(pattern):
                try:
                    newest = max(newest, path.stat().st_mtime_ns)
                except OSError:
                    continue
        return newest
