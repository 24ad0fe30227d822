"""Stand-ins for what the pre-traffic hook talks to: Lambda running the functions' handlers in this
process as their new versions, and CodeDeploy's PutLifecycleEventHookExecutionStatus (moto has no
lifecycle-hook API), which records what the hook reported."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from local.lambdas import LambdaContext, load_function, template_functions

Handler = Callable[[Any, Any], Any]


def handler_modules() -> dict[str, ModuleType]:
    """Every function's handler module, by logical id, as one container of each would hold."""
    return {spec.logical_id: load_function(spec) for spec in template_functions()}


def run_like_lambda(handler: Handler, payload: bytes) -> tuple[bytes, str | None]:
    """What Invoke answers: the handler's result as JSON, or Lambda's error document and "Unhandled"."""
    try:
        result = handler(json.loads(payload or b"{}"), LambdaContext())
    except Exception as exc:
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": "withheld"}).encode(), "Unhandled"
    return json.dumps(result).encode(), None


@dataclass
class NewVersions:
    """Lambda's Invoke for the versions a deployment publishes: version ARN -> the handler it runs."""

    handlers: dict[str, Handler]
    invoked: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, versions: Mapping[str, str], modules: Mapping[str, ModuleType]) -> NewVersions:
        """Each function's version ARN (the hook's environment) running that function's real handler."""
        return cls(
            {versions[name]: module.lambda_handler for name, module in modules.items() if name in versions}
        )

    def invoke(self, *, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # boto3's argument names
        self.invoked.append(FunctionName)
        if FunctionName not in self.handlers:
            raise LookupError(f"no such version: {FunctionName}")  # as ResourceNotFoundException would
        body, error = run_like_lambda(self.handlers[FunctionName], Payload)
        answer: dict[str, Any] = {"StatusCode": 200, "Payload": io.BytesIO(body)}
        if error:
            answer["FunctionError"] = error
        return answer


@dataclass
class CodeDeployStandIn:
    """PutLifecycleEventHookExecutionStatus, recording each report."""

    reports: list[dict[str, str]] = field(default_factory=list)

    def put_lifecycle_event_hook_execution_status(self, **report: str) -> dict[str, str]:
        self.reports.append(report)
        return {"lifecycleEventHookExecutionId": report["lifecycleEventHookExecutionId"]}


def lifecycle_event() -> dict[str, str]:
    """What CodeDeploy sends a BeforeAllowTraffic hook."""
    return {
        "DeploymentId": f"d-{uuid.uuid4().hex[:9].upper()}",
        "LifecycleEventHookExecutionId": uuid.uuid4().hex,
    }
