"""One Lambda "container": loads a handler and runs one invocation at a time, like a Lambda sandbox.

Run by the gateway as `python -m local.container <CodeUri> <Handler> --result-fd N` in the template's
folder. Invocations arrive as JSON lines on stdin; answers go back as JSON lines on fd N, because stdout
belongs to the function (Powertools writes its JSON logs there).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any

from local.lambdas import LambdaContext, load_module


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
        function = getattr(load_module(code_uri, args.handler), args.handler.rpartition(".")[2])
    except Exception as exc:
        init_error = _error(exc, "Runtime.ImportModuleError")

    for line in sys.stdin.buffer:
        request = json.loads(line)
        if init_error is not None:
            # Like Lambda: report the failed init, then let the sandbox go; the next one retries it.
            results.write(json.dumps({**init_error, "fatal": True}).encode() + b"\n")
            results.flush()
            return
        context = LambdaContext.from_environment(
            request["requestId"], request["deadlineMs"], request["invokedFunctionArn"]
        )
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
