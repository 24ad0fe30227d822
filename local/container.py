"""One Lambda "container": loads a handler and runs one invocation at a time, like a Lambda sandbox.

Run by the gateway as `python -m local.container <CodeUri> <Handler> --result-fd N` in the template's
folder. Invocations arrive as JSON lines on stdin; answers go back as JSON lines on fd N, because stdout
belongs to the function (Powertools writes its JSON logs there).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any


class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.invoked_function_arn = invoked_function_arn
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.aws_request_id = request_id
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler(code_uri: str, handler: str) -> Any:
    """Import <CodeUri>/<module>.py under a module name unique to the function, and return its handler."""
    module_path, _, attribute = handler.rpartition(".")
    file = Path(code_uri, *module_path.split(".")).with_suffix(".py")
    name = "lambda_" + Path(code_uri).name.replace("-", "_") + "_" + module_path.replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, attribute)


def _error(exc: BaseException, error_type: str | None = None) -> dict[str, Any]:
    # The traceback goes to stderr, as Lambda writes it to the function's log; the answer only says what.
    traceback.print_exception(exc)
    return {"error": {"errorType": error_type or type(exc).__name__, "errorMessage": str(exc)}}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("code_uri")
    parser.add_argument("handler")
    parser.add_argument("--result-fd", type=int, required=True)
    args = parser.parse_args()
    # Ctrl-C reaches the whole process group; the gateway stops us by closing stdin instead.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    code_uri = str(Path(args.code_uri).resolve())
    root = os.getcwd()
    # Lambda puts the function's code first, then the layers; the repo root stands in for the rest.
    sys.path[:0] = [code_uri, os.path.join(root, "layers", "shared"), root]
    results = os.fdopen(args.result_fd, "wb")  # buffered: a large answer is written whole

    init_error: dict[str, Any] | None = None
    try:
        function = load_handler(code_uri, args.handler)
    except Exception as exc:
        init_error = _error(exc, "Runtime.ImportModuleError")

    for line in sys.stdin.buffer:
        request = json.loads(line)
        if init_error is not None:
            # Like Lambda: report the failed init, then let the sandbox go; the next one retries it.
            results.write(json.dumps({**init_error, "fatal": True}).encode() + b"\n")
            results.flush()
            return
        context = LambdaContext(request["requestId"], request["deadlineMs"], request["invokedFunctionArn"])
        try:
            answer = {"result": function(request["event"], context)}
            data = json.dumps(answer).encode()
        except Exception as exc:
            data = json.dumps(_error(exc)).encode()
        sys.stdout.flush()
        results.write(data + b"\n")
        results.flush()


if __name__ == "__main__":
    main()
