"""`make smoke` against the local stack, as an operator runs it after `sam deploy`: the stack's outputs,
the schedule and the alarms from its moto, the /ops calls through its gateway, signed with the local
stack's key (docs/LOCAL_STACK.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.cfn import load_template
from tests.e2e.conftest import REPO, Stack

# Every alarm template.yaml defines (the local stack creates them all, the smoke check finds them all).
ALARMS = sum(
    r["Type"] == "AWS::CloudWatch::Alarm" for r in load_template(REPO / "template.yaml")["Resources"].values()
)

STACK = "api-info-local"
SCHEDULE = f"{STACK}-CheckSchedule"
LOCAL_KEY = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


def smoke(stack: Stack, name: str = STACK) -> subprocess.CompletedProcess[str]:
    """python -m scripts.smoke, what `make smoke STACK=<name>` runs, with the local stack's AWS side."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(LOCAL_KEY, AWS_ENDPOINT_URL=stack.aws_url, AWS_CONFIG_FILE=os.devnull)
    env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    command = [sys.executable, "-m", "scripts.smoke", "--stack", name]
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def aws(stack: Stack) -> Iterator[Any]:
    """boto3 clients of the local stack's moto."""
    session = boto3.session.Session(
        aws_access_key_id=LOCAL_KEY["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_KEY["AWS_SECRET_ACCESS_KEY"],
        region_name=LOCAL_KEY["AWS_REGION"],
    )
    yield lambda service: session.client(service, endpoint_url=stack.aws_url)


def table_items(aws: Any) -> list[dict[str, Any]]:
    (described,) = aws("cloudformation").describe_stacks(StackName=STACK)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    items: list[dict[str, Any]] = aws("dynamodb").scan(TableName=outputs["CredentialsTableName"])["Items"]
    return items


def test_the_smoke_check_passes_against_the_local_stack_and_changes_no_data(stack: Stack, aws: Any) -> None:
    # Given
    before = table_items(aws)

    # When
    result = smoke(stack)

    # Then
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"ok   stack {STACK}: API {stack.url}",
        "ok   a signed /ops call for an unknown installation answers 404 not_found",
        "ok   an unsigned /ops call is refused (403 forbidden)",
        f"ok   the check schedule {SCHEDULE} is enabled",
        f"ok   all {ALARMS} alarms exist",
        "smoke check passed",
    ]
    assert table_items(aws) == before


def test_the_smoke_check_fails_on_a_disabled_schedule_and_a_missing_alarm(stack: Stack, aws: Any) -> None:
    # Given the schedule disabled and one alarm deleted
    scheduler, cloudwatch = aws("scheduler"), aws("cloudwatch")
    schedule = scheduler.get_schedule(Name=SCHEDULE)
    kept = ("ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow", "Target", "Description")
    settings = {k: schedule[k] for k in kept if k in schedule}
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"{STACK}-check-queue-age"])["MetricAlarms"]
    scheduler.update_schedule(Name=SCHEDULE, State="DISABLED", **settings)
    cloudwatch.delete_alarms(AlarmNames=[alarm["AlarmName"]])
    try:
        # When
        result = smoke(stack)
    finally:
        scheduler.update_schedule(Name=SCHEDULE, State="ENABLED", **settings)
        restored = ("AlarmDescription", "Namespace", "MetricName", "Dimensions", "Statistic", "Period")
        restored += ("EvaluationPeriods", "Threshold", "ComparisonOperator", "TreatMissingData")
        cloudwatch.put_metric_alarm(
            AlarmName=alarm["AlarmName"], **{k: alarm[k] for k in restored if k in alarm}
        )

    # Then it says what is wrong, and fails
    assert result.returncode == 1
    assert f"FAIL check_schedule_enabled: the check schedule {SCHEDULE} is DISABLED" in result.stdout
    assert f"FAIL check_alarms_exist: 1 alarm(s) missing: {STACK}-check-queue-age" in result.stdout
    assert result.stdout.splitlines()[-1] == "smoke check FAILED (2)"


def test_the_smoke_check_of_a_stack_that_does_not_exist_fails(stack: Stack) -> None:
    result = smoke(stack, "no-such-stack")

    assert result.returncode == 1
    assert result.stdout.startswith("FAIL reading the outputs of stack no-such-stack")
