"""The pre-traffic hook: no traffic reaches a new version until it has answered as it must, and CodeDeploy
hears Succeeded or Failed. The functions' real handlers run as the new versions (tests/support/deploy.py);
the versions are the ones template.yaml puts in the hook's environment."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError

from api_info import pre_traffic
from local.lambdas import LambdaContext, function_module
from tests.support.checks import Checks
from tests.support.deploy import CodeDeployStandIn, NewVersions, handler_modules, lifecycle_event
from tests.support.harness import Api

FUNCTIONS = [probe.function for probe in pre_traffic.PROBES]


@pytest.fixture(scope="module")
def modules() -> dict[str, ModuleType]:
    return handler_modules()


@pytest.fixture
def hook(aws: dict[str, str]) -> ModuleType:
    return function_module("PreTrafficHookFunction")  # a fresh container: no client cached


def deploy(hook: ModuleType, versions: NewVersions, monkeypatch: pytest.MonkeyPatch) -> CodeDeployStandIn:
    """Run the hook as CodeDeploy would before shifting traffic; returns what it reported."""
    codedeploy = CodeDeployStandIn()
    monkeypatch.setattr(hook, "clients", lambda: (versions, codedeploy))
    event = lifecycle_event()
    answer = hook.lambda_handler(event, LambdaContext())
    (report,) = codedeploy.reports
    assert report["deploymentId"] == event["DeploymentId"]
    assert report["lifecycleEventHookExecutionId"] == event["LifecycleEventHookExecutionId"]
    assert answer == {"status": report["status"]}
    return codedeploy


def new_versions(aws: dict[str, str], modules: dict[str, ModuleType]) -> NewVersions:
    return NewVersions.of({name: aws[name] for name in FUNCTIONS}, modules)


def test_versions_that_answer_as_they_must_are_let_through(
    aws: dict[str, str], modules: dict[str, ModuleType], hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given every function's new version, as the hook's environment names them
    versions = new_versions(aws, modules)

    # When CodeDeploy runs the hook
    codedeploy = deploy(hook, versions, monkeypatch)

    # Then each version was tried once, and the traffic may shift
    assert sorted(versions.invoked) == sorted(aws[name] for name in FUNCTIONS)
    assert len(set(versions.invoked)) == len(FUNCTIONS)
    assert codedeploy.reports[0]["status"] == "Succeeded"


def test_each_http_function_refuses_the_tokenless_request_in_the_contracts_shape(
    aws: dict[str, str], modules: dict[str, ModuleType]
) -> None:
    for probe in pre_traffic.PROBES:
        if probe.method is None:
            continue
        answer = modules[probe.function].lambda_handler(probe.event(), LambdaContext())
        assert answer["statusCode"] == 401, probe.function
        error = json.loads(answer["body"])["error"]
        assert error["code"] == "unauthenticated" and error["message"] and error["requestId"], probe.function


def answering(status: int, body: Any) -> Any:
    return lambda event, context: {"statusCode": status, "body": json.dumps(body)}


def failing(event: Any, context: Any) -> Any:
    raise RuntimeError("the new version is broken")


BROKEN = {
    "GetInfoFunction": answering(200, {"apiKey": {}}),  # lets a tokenless request through
    "ChangeKeyFunction": answering(401, {"message": "Unauthorized"}),  # not the contract's shape
    "HistoryFunction": answering(401, {"error": {"code": "forbidden", "message": "No.", "requestId": "1"}}),
    "UninstallFunction": failing,  # an import error, a missing setting, a bug
    "CheckWorkerFunction": failing,
}


def test_a_version_that_fails_its_check_is_not_shifted_to(
    aws: dict[str, str], modules: dict[str, ModuleType], hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    for function, broken in BROKEN.items():
        # Given one function's new version that does not answer as it must
        versions = new_versions(aws, modules)
        versions.handlers[aws[function]] = broken

        # When CodeDeploy runs the hook, then it hears Failed: the alias stays on the old version
        assert deploy(hook, versions, monkeypatch).reports[0]["status"] == "Failed", function
        assert len(set(versions.invoked)) == len(FUNCTIONS)  # the others were tried all the same


def test_a_version_the_hook_cannot_invoke_or_does_not_know_fails_the_deployment(
    aws: dict[str, str], modules: dict[str, ModuleType], hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions = new_versions(aws, modules)
    del versions.handlers[aws["DispatchChecksFunction"]]  # Invoke fails (not found, access denied, ...)
    assert deploy(hook, versions, monkeypatch).reports[0]["status"] == "Failed"

    monkeypatch.delenv("CheckNowFunction")  # the template no longer names its version
    assert deploy(hook, new_versions(aws, modules), monkeypatch).reports[0]["status"] == "Failed"


def test_the_dispatchers_probe_sends_no_tenant_to_the_queue(
    api: Api, checks: Checks, modules: dict[str, ModuleType]
) -> None:
    # Given an installed tenant
    api.call("get_info", tenant="acme")

    # When the dispatcher's new version gets the hook's empty event, then it dispatches nothing
    assert modules["DispatchChecksFunction"].lambda_handler({}, LambdaContext()) == {"tenants": 0}
    assert checks.receive() == []


def test_an_invoke_iam_refuses_at_first_is_tried_again(
    aws: dict[str, str], modules: dict[str, ModuleType], hook: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given IAM that refuses the first invokes of one version: the hook's role names each new version,
    # and this deploy changed it seconds ago
    monkeypatch.setattr(pre_traffic, "ACCESS_DENIED_WAITS", (0, 0, 0))  # no real waiting in a test
    versions = new_versions(aws, modules)
    refusals = {"left": 3}
    invoke = versions.invoke

    def eventually(**kwargs: Any) -> dict[str, Any]:
        if kwargs["FunctionName"] == aws["HistoryFunction"] and refusals["left"]:
            refusals["left"] -= 1
            error = {"Error": {"Code": "AccessDeniedException", "Message": "not yet"}}
            raise ClientError(error, "Invoke")  # type: ignore[arg-type]
        return invoke(**kwargs)

    monkeypatch.setattr(versions, "invoke", eventually)

    # Then three refusals are waited out, a fourth is not
    assert deploy(hook, versions, monkeypatch).reports[0]["status"] == "Succeeded"
    refusals["left"] = 4
    assert deploy(hook, versions, monkeypatch).reports[0]["status"] == "Failed"
