"""Running the template's Lambda handlers in this process: load one, hand it a context, start afresh.

The local gateway's containers, the tests, scripts/openapi.py and the benchmarks all load handlers
through here, so a function is imported the same way everywhere: by template.yaml's CodeUri and Handler.
Kept free of heavy imports: a local container imports it before its function's own init is timed.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.cfn import FunctionSpec

REPO = Path(__file__).resolve().parent.parent


def load_module(code_uri: str | Path, handler: str) -> ModuleType:
    """Import the module of `handler` ("app.lambda_handler") from <CodeUri>, as Lambda would.

    The module is registered under a name unique to the function (two functions' app.py must not
    replace each other), so that pydantic can resolve the annotations of the models it defines.
    """
    code_uri = Path(code_uri)
    module_path = handler.rpartition(".")[0]
    file = code_uri.joinpath(*module_path.split(".")).with_suffix(".py")
    name = "lambda_" + code_uri.name.replace("-", "_") + "_" + module_path.replace(".", "_")
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def load_function(spec: FunctionSpec, root: Path = REPO) -> ModuleType:
    """The handler module of one function of the template at `root`."""
    return load_module(root / spec.code_uri, spec.handler)


def template_functions(template_path: Path = REPO / "template.yaml") -> list[FunctionSpec]:
    """Every function of template.yaml."""
    from local.cfn import functions, load_template

    return functions(load_template(template_path))


def function_module(logical_id: str, template_path: Path = REPO / "template.yaml") -> ModuleType:
    """The handler module of the function with this logical id."""
    spec = next(s for s in template_functions(template_path) if s.logical_id == logical_id)
    return load_function(spec, template_path.parent)


def load_handlers(template_path: Path = REPO / "template.yaml") -> dict[tuple[str, str], ModuleType]:
    """Every function's handler module, keyed by (method, resource path) of its API events."""
    routes: dict[tuple[str, str], ModuleType] = {}
    for spec in template_functions(template_path):
        module = load_function(spec, template_path.parent)
        for route in spec.routes:
            routes[(route.method, route.path)] = module
    return routes


@dataclass
class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read.

    With `deadline_ms` (epoch milliseconds) the remaining time runs down as in Lambda; without it,
    it stays at `remaining_ms`, which a test sets to what it needs.
    """

    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_ms: int = 15_000
    deadline_ms: int | None = None
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = ""
    identity: Any = None
    client_context: Any = None
    tenant_id: Any = None

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline_ms is None:
            return self.remaining_ms
        return max(0, self.deadline_ms - int(time.time() * 1000))

    @classmethod
    def from_environment(cls, request_id: str, deadline_ms: int, invoked_function_arn: str) -> LambdaContext:
        """The context of one invocation in a local container, whose environment Lambda's runtime set."""
        return cls(
            function_name=os.environ["AWS_LAMBDA_FUNCTION_NAME"],
            function_version=os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            memory_limit_in_mb=int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
            invoked_function_arn=invoked_function_arn,
            log_group_name=os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
            log_stream_name=os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
            aws_request_id=request_id,
            deadline_ms=deadline_ms,
        )


def reset_container_caches() -> None:
    """Forget every per-container cache (settings, services, AWS clients), as a new Lambda sandbox."""
    from api_info import wiring

    wiring.reset()
