"""The deployment gate: before CodeDeploy moves any traffic to a new version, invoke the new version of
every function once and tell CodeDeploy whether each answered as it must.

An HTTP function is sent an API Gateway request without a Forge Invocation Token, and must refuse it
with 401 in the contract's error shape: that takes its import, settings, routing and error mapping, and
no AWS call nor tenant. The others are sent an empty event, and must finish without error.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from api_info.observability import logger

SUCCEEDED, FAILED = "Succeeded", "Failed"
# Probes run at once; one at a time where invocations must not overlap (the least-privilege test).
MAX_PARALLEL = 10
# The hook may invoke only the versions this deploy publishes, so its role's policy changes in the same
# deploy, seconds before CodeDeploy calls it; IAM takes a change in within seconds, not at once
# (aws/serverless-application-model#838). An AccessDenied is tried again after these waits (seconds).
ACCESS_DENIED_WAITS: tuple[float, ...] = (2, 4, 8)


@dataclass(frozen=True)
class Probe:
    """One function to try: its logical id in template.yaml (also the hook's environment variable that
    holds its new version's ARN) and, for an HTTP function, one of its routes."""

    function: str
    method: str | None = None
    path: str | None = None

    def event(self) -> dict[str, Any]:
        if self.method is None or self.path is None:
            return {}
        return unauthenticated_request(self.method, self.path)

    def problem(self, answer: Any) -> str | None:
        """None when the answer is what the version must give; else what is wrong (no payload quoted)."""
        if self.method is None:
            return None
        if not isinstance(answer, dict) or answer.get("statusCode") != 401:
            status = answer.get("statusCode") if isinstance(answer, dict) else type(answer).__name__
            return f"answered {status} instead of 401"
        try:
            error = json.loads(answer.get("body") or "")["error"]
        except (ValueError, TypeError, KeyError):
            return "answered 401 without the contract's error body"
        fields_ok = isinstance(error, dict) and all(
            isinstance(error.get(name), str) and error[name] for name in ("message", "requestId")
        )
        if not fields_ok or error.get("code") != "unauthenticated":
            return "answered 401 without the contract's error body"
        return None


# Every function of template.yaml but this hook (tests/unit/test_template_deployment.py holds the two to
# each other). The HTTP routes are each function's own, not the /ops twins: those are refused by API
# Gateway's IAM authorizer before the function.
PROBES: tuple[Probe, ...] = (
    Probe("GetInfoFunction", "GET", "/api-info"),
    Probe("ChangeKeyFunction", "PUT", "/api-info/key"),
    Probe("ChangeTokenFunction", "PUT", "/api-info/token"),
    Probe("HistoryFunction", "GET", "/api-info/history"),
    Probe("DeleteCredentialFunction", "DELETE", "/api-info/key"),
    Probe("UninstallFunction", "POST", "/lifecycle/uninstalled"),
    Probe("PersonalDataFunction", "POST", "/lifecycle/personal-data"),
    Probe("CheckNowFunction", "POST", "/api-info/check"),
    Probe("DispatchChecksFunction"),
    Probe("CheckWorkerFunction"),
)


def unauthenticated_request(method: str, path: str) -> dict[str, Any]:
    """An API Gateway (REST, proxy) request as Forge would send it, but with no token at all."""
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json", "User-Agent": "api-info/pre-traffic-hook"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": path,
            "stage": "pre-traffic",
            "requestId": "pre-traffic-hook",
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "api-info/pre-traffic-hook"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


Invoke = Callable[..., Mapping[str, Any]]  # the Lambda client's invoke


def _access_denied(exc: Exception) -> bool:
    error = getattr(exc, "response", None) or {}
    return bool(error.get("Error", {}).get("Code") == "AccessDeniedException")


def try_version(invoke: Invoke, probe: Probe, version_arn: str) -> str | None:
    """Invoke one new version with its probe; None when it passed, else why not."""
    waits = iter(ACCESS_DENIED_WAITS)
    while True:
        try:
            response = invoke(FunctionName=version_arn, Payload=json.dumps(probe.event()).encode())
            payload = response["Payload"].read()
            break
        except Exception as exc:  # an AWS error, a timeout: the version was not shown to work
            wait = next(waits, None) if _access_denied(exc) else None
            if wait is None:
                return f"could not be invoked ({type(exc).__name__})"
            time.sleep(wait)
    if response.get("FunctionError"):
        return f"failed ({response['FunctionError']})"  # its own log group says why
    try:
        answer = json.loads(payload) if payload else None
    except ValueError:
        return "answered something that is not JSON"
    return probe.problem(answer)


def check_versions(invoke: Invoke, versions: Mapping[str, str]) -> dict[str, str]:
    """Every probe run against the version `versions` names for its function; function -> problem."""
    problems: dict[str, str] = {}
    runnable = []
    for probe in PROBES:
        if versions.get(probe.function):
            runnable.append(probe)
        else:
            problems[probe.function] = "no new version named in the hook's environment"
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(runnable)))) as pool:
        results = pool.map(lambda p: (p.function, try_version(invoke, p, versions[p.function])), runnable)
        problems.update({function: problem for function, problem in results if problem})
    return problems


def gate(
    event: Mapping[str, Any], invoke: Invoke, report: Callable[..., Any], versions: Mapping[str, str]
) -> str:
    """Run the probes and report the outcome to CodeDeploy (PutLifecycleEventHookExecutionStatus)."""
    problems = check_versions(invoke, versions)
    status = FAILED if problems else SUCCEEDED
    for function, problem in sorted(problems.items()):
        refused = {"function": function, "version": versions.get(function), "problem": problem}
        logger.error("New version refused", extra=refused)
    report(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    logger.info("Pre-traffic check reported", extra={"status": status, "refused": sorted(problems)})
    return status
