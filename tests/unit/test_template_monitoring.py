"""template.yaml's alarms and dashboard, read from the template itself and from SAM's transform of it:
each watches a resource or metric that exists, and every alarm reaches the operator."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from api_info import check_results
from api_info.observability import metrics
from local.cfn import load_template
from tests.support.harness import REPO
from tests.support.sam import transformed

TEMPLATE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
ALARMS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}
FUNCTIONS = sorted(name for name, r in RESOURCES.items() if r["Type"] == "AWS::Serverless::Function")
SHARED_ACTIONS = {
    "Fn::If": [
        "HasAlarmEmail",
        {
            "Fn::If": [
                "HasAlarmAction",
                [{"Ref": "AlarmActionArn"}, {"Ref": "AlarmTopic"}],
                [{"Ref": "AlarmTopic"}],
            ]
        },
        {"Fn::If": ["HasAlarmAction", [{"Ref": "AlarmActionArn"}], {"Ref": "AWS::NoValue"}]},
    ]
}


def dimensions(alarm: dict[str, Any]) -> dict[str, Any]:
    return {d["Name"]: d["Value"] for d in alarm["Dimensions"]}


def alarms_on(namespace: str, metric: str) -> list[dict[str, Any]]:
    return [a for a in ALARMS.values() if (a["Namespace"], a["MetricName"]) == (namespace, metric)]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_has_an_errors_and_a_throttles_alarm(function: str) -> None:
    for metric in ("Errors", "Throttles"):
        watching = [
            a for a in alarms_on("AWS/Lambda", metric) if dimensions(a) == {"FunctionName": {"Ref": function}}
        ]
        assert len(watching) == 1, (function, metric)
        assert watching[0]["Threshold"] == 0 and watching[0]["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_5xx_alarm_watches_the_rest_api_and_stage_sam_creates() -> None:
    # Given the REST API and stage as CloudFormation receives them; API Gateway's metrics carry the API's
    # name, which SAM takes from the OpenAPI title when the template names none
    resources = transformed()["Resources"]
    (api,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    (stage,) = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"]
    api_name = api.get("Name") or api["Body"]["info"]["title"]

    # Then the alarm on the share of 5xx answers names exactly those
    (alarm,) = alarms_on("AWS/ApiGateway", "5XXError")
    assert dimensions(alarm) == {"ApiName": api_name, "Stage": stage["StageName"]}
    assert alarm["Statistic"] == "Average" and 0 < alarm["Threshold"] < 1  # a rate, not a count


def test_the_queue_age_alarm_watches_the_check_queue() -> None:
    (alarm,) = alarms_on("AWS/SQS", "ApproximateAgeOfOldestMessage")
    assert dimensions(alarm) == {"QueueName": {"Fn::GetAtt": ["CheckQueue", "QueueName"]}}
    # Longer than a check's retries take before the dead-letter queue (about half an hour).
    assert alarm["Threshold"] >= 1800


def test_the_unreachable_alarm_watches_the_metric_the_worker_emits() -> None:
    (alarm,) = [a for a in ALARMS.values() if a["MetricName"] == check_results.UNREACHABLE_METRIC]
    assert (
        alarm["Namespace"]
        == metrics.namespace
        == TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    )
    assert dimensions(alarm) == {"service": metrics.service}
    assert alarm["Statistic"] == "Average" and 0 < alarm["Threshold"] <= 100  # a percentage


@pytest.mark.parametrize("alarm", sorted(ALARMS))
def test_every_alarm_notifies_the_shared_actions_and_can_use_the_encrypted_topic(alarm: str) -> None:
    props = ALARMS[alarm]
    assert props["AlarmActions"] == props["OKActions"] == SHARED_ACTIONS
    assert props["TreatMissingData"] == "notBreaching"
    # The key policy lets CloudWatch encrypt for alarms named <stack>-* only; a name CloudFormation
    # generates also starts with the stack's name.
    name = props.get("AlarmName", {"Fn::Sub": "${AWS::StackName}-" + alarm})
    assert name["Fn::Sub"].startswith("${AWS::StackName}-")


def test_the_alarm_email_gets_an_encrypted_topic_cloudwatch_may_publish_to() -> None:
    topic = RESOURCES["AlarmTopic"]
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert topic["Condition"] == subscription["Condition"] == "HasAlarmEmail"
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": ["SecretsKey", "Arn"]}
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "AlarmTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "AlarmEmail"},
    }
    (grant,) = [
        s
        for s in RESOURCES["SecretsKey"]["Properties"]["KeyPolicy"]["Statement"]
        if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert set(grant["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    assert grant["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"].endswith(":alarm:${AWS::StackName}-*")


def test_the_alarm_names_output_lists_every_alarm() -> None:
    # make smoke checks the alarms of this output: one left out would never be checked
    output = TEMPLATE["Outputs"]["AlarmNames"]["Value"]["Fn::Join"]
    assert output[0] == ","
    assert sorted(ref["Ref"] for ref in output[1]) == sorted(ALARMS)


def dashboard() -> tuple[str, dict[str, Any]]:
    """The dashboard body with its ${...} left as they are, and parsed with each replaced by a placeholder."""
    body = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return body, json.loads(re.sub(r"\$\{[^}]+\}", "x", body))


def test_the_dashboard_is_json_whose_references_exist() -> None:
    body, _ = dashboard()
    for reference in re.findall(r"\$\{([^}]+)\}", body):
        name, _, attribute = reference.partition(".")
        assert name.startswith("AWS::") or name in TEMPLATE["Parameters"] or name in RESOURCES, reference
        if attribute:
            assert attribute in ("Arn", "QueueName"), reference


def test_the_dashboard_shows_requests_errors_latency_checks_and_status_changes() -> None:
    _, parsed = dashboard()
    shown = set()
    for widget in parsed["widgets"]:
        for line in widget["properties"].get("metrics", []):
            options = line[-1] if isinstance(line[-1], dict) else {}
            stat = options.get("stat", widget["properties"].get("stat"))
            shown.add((line[0], line[1], stat))
    assert {
        ("AWS/ApiGateway", "Count", "Sum"),
        ("AWS/ApiGateway", "4XXError", "Sum"),
        ("AWS/ApiGateway", "5XXError", "Sum"),
        ("AWS/ApiGateway", "Latency", "p50"),
        ("AWS/ApiGateway", "Latency", "p99"),
        ("FlexibleUserLicense", "CredentialsChecked", "Sum"),
        ("FlexibleUserLicense", "CheckErrors", "Sum"),
        ("FlexibleUserLicense", "CredentialStatusChanged", "Sum"),
    } <= shown
    # Every figure of the service's namespace is one the checks emit.
    emitted = "".join(
        (REPO / "layers/shared/api_info" / name).read_text() for name in ("checks.py", "check_results.py")
    )
    for namespace, metric, _ in shown:
        if namespace == metrics.namespace:
            assert f'"{metric}"' in emitted, metric
