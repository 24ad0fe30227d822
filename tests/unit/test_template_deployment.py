"""Gradual deployment, read from template.yaml and from SAM's transform of it: every function's live alias
moves through CodeDeploy, behind the pre-traffic hook, rolled back by an alarm that can fire in the canary,
with roles that reach this stack's aliases, versions, alarms and deployment groups only."""

from __future__ import annotations

from typing import Any

import pytest

from api_info import pre_traffic
from local.cfn import load_template
from tests.support.harness import REPO
from tests.support.sam import transformed

TEMPLATE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBAL = TEMPLATE["Globals"]["Function"]
HOOK = "PreTrafficHookFunction"
DEPLOYED = sorted(n for n, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function" and n != HOOK)
ALIAS = GLOBAL["AutoPublishAlias"]


def of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def statement(role: str, sid: str) -> dict[str, Any]:
    policies = RESOURCES[role]["Properties"]["Policies"]
    (found,) = [s for p in policies for s in p["PolicyDocument"]["Statement"] if s.get("Sid") == sid]
    return found  # type: ignore[no-any-return]


def short(function: str) -> str:
    return function.removesuffix("Function")


def test_the_strategy_is_a_canary_unless_a_development_stack_asks_for_all_at_once() -> None:
    parameter = TEMPLATE["Parameters"]["DeploymentStrategy"]
    assert parameter["Default"].startswith("Canary") and "AllAtOnce" in parameter["AllowedValues"]
    for strategy in (parameter["Default"], "AllAtOnce"):
        groups = of_type(transformed(strategy), "AWS::CodeDeploy::DeploymentGroup").values()
        configs = {str(g["Properties"]["DeploymentConfigName"]) for g in groups}
        assert configs == {str({"Fn::Sub": f"CodeDeployDefault.Lambda{strategy}"})}, strategy


@pytest.mark.parametrize("function", DEPLOYED)
def test_every_functions_alias_shifts_through_codedeploy_behind_the_hook(function: str) -> None:
    resources = transformed()["Resources"]
    (alias,) = [
        r
        for r in of_type(transformed(), "AWS::Lambda::Alias").values()
        if r["Properties"]["FunctionName"] == {"Ref": function}
    ]
    assert alias["Properties"]["Name"] == ALIAS
    update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
    assert update["BeforeAllowTrafficHook"] == {"Ref": HOOK}
    group = resources[update["DeploymentGroupName"]["Ref"]]["Properties"]
    assert group["ServiceRoleArn"] == {"Fn::GetAtt": ["CodeDeployRole", "Arn"]}
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
    assert group["AlarmConfiguration"] == {
        "Enabled": True,
        "Alarms": [{"Name": {"Ref": f"{short(function)}LiveErrorsAlarm"}}],
    }


@pytest.mark.parametrize("function", DEPLOYED)
def test_each_alias_has_an_errors_alarm_that_fires_within_the_canary(function: str) -> None:
    alarm = RESOURCES[f"{short(function)}LiveErrorsAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", "Errors", "Sum")
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "FunctionName": {"Ref": function},
        "Resource": {"Fn::Sub": "${" + function + "}:" + ALIAS},
    }
    assert alarm["Threshold"] == 0 and alarm["ComparisonOperator"] == "GreaterThanThreshold"
    # One minute of errors decides; the shortest step of any allowed strategy is one minute, a canary's five.
    assert alarm["Period"] * alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]) <= 60


def test_codedeploy_and_the_hook_get_no_role_of_sams_making() -> None:
    roles = of_type(transformed(), "AWS::IAM::Role")
    assert "CodeDeployServiceRole" not in roles  # SAM's, with AWSCodeDeployRoleForLambda
    assert RESOURCES[HOOK]["Properties"]["DeploymentPreference"] == {"Enabled": False}
    for role in ("CodeDeployRole", "PreTrafficHookRole"):
        assert "ManagedPolicyArns" not in RESOURCES[role]["Properties"], role


def test_the_hook_probes_every_deployed_function_with_the_version_this_deploy_publishes() -> None:
    variables = RESOURCES[HOOK]["Properties"]["Environment"]["Variables"]
    assert sorted(p.function for p in pre_traffic.PROBES) == DEPLOYED
    for probe in pre_traffic.PROBES:
        assert variables[probe.function] == {"Ref": f"{probe.function}.Version"}
        events = RESOURCES[probe.function]["Properties"].get("Events", {}).values()
        routes = {
            (e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events if e["Type"] == "Api"
        }
        if probe.method is None:
            assert not routes, f"{probe.function} is an HTTP function: probe one of its routes"
        else:
            assert (probe.method, probe.path) in routes and not probe.path.startswith("/ops/"), probe


def test_the_hook_may_invoke_the_new_versions_and_report_to_this_stacks_groups_only() -> None:
    invoke = statement("PreTrafficHookRole", "InvokeNewVersions")
    assert invoke["Action"] == "lambda:InvokeFunction"
    # the versions this deploy publishes: not $LATEST, not an alias, nothing else
    assert sorted(r["Ref"] for r in invoke["Resource"]) == sorted(f"{f}.Version" for f in DEPLOYED)
    report = statement("PreTrafficHookRole", "ReportToCodeDeploy")
    assert report["Action"] == "codedeploy:PutLifecycleEventHookExecutionStatus"
    prefix = "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:deploymentgroup:"
    assert sorted(r["Fn::Sub"] for r in report["Resource"]) == sorted(
        f"{prefix}${{ServerlessDeploymentApplication}}/${{{f}DeploymentGroup}}" for f in DEPLOYED
    )
    # and the groups named are the ones SAM creates
    groups = of_type(transformed(), "AWS::CodeDeploy::DeploymentGroup")
    assert sorted(groups) == sorted(f"{f}DeploymentGroup" for f in DEPLOYED)


def test_codedeploy_may_shift_these_aliases_read_their_alarms_and_invoke_the_hook_only() -> None:
    shift = statement("CodeDeployRole", "ShiftAliases")
    assert sorted(shift["Action"]) == ["lambda:GetAlias", "lambda:UpdateAlias"]
    expected = [{"Fn::GetAtt": [f, "Arn"]} for f in DEPLOYED] + [
        {"Fn::Sub": "${" + f + ".Arn}:" + ALIAS} for f in DEPLOYED
    ]
    assert sorted(map(str, shift["Resource"])) == sorted(map(str, expected))
    alarms = statement("CodeDeployRole", "WatchRollbackAlarms")
    assert alarms["Action"] == "cloudwatch:DescribeAlarms"
    assert sorted(r["Fn::GetAtt"][0] for r in alarms["Resource"]) == sorted(
        f"{short(f)}LiveErrorsAlarm" for f in DEPLOYED
    )
    trust = RESOURCES["CodeDeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "codedeploy.amazonaws.com"}]
    (permission,) = of_type(TEMPLATE, "AWS::Lambda::Permission").values()
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [HOOK, "Arn"]},
        "Principal": {"Fn::GetAtt": ["CodeDeployRole", "Arn"]},
    }


def test_the_schedule_starts_the_dispatchers_live_alias() -> None:
    # Not $LATEST: a new dispatcher gets the schedule only once CodeDeploy has let it through.
    target = RESOURCES["CheckSchedule"]["Properties"]["Target"]
    assert target["Arn"] == {"Ref": "DispatchChecksFunction.Alias"}
    (grant,) = RESOURCES["CheckScheduleRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert grant["Resource"] == {"Ref": "DispatchChecksFunction.Alias"}
