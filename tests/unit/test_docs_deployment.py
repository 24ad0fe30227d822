"""docs/DEPLOYMENT.md held to template.yaml and the Forge manifest: every count it states (functions,
alarms, outputs), its tables of functions, outputs and alarms, the AWS services a deploy needs rights to,
and the one menu path to the page, which README.md names too.

Counts are found wherever the page writes them as "<n> functions", "<n> alarms", "<n> outputs" or "<n>
function ARN outputs", and computed from the template, so that a function or an alarm added to it fails
here until the page says so."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from local.cfn import load_template
from tests.support.docs import code_spans, read, section, table_rows
from tests.support.harness import REPO

DEPLOYMENT = read("docs/DEPLOYMENT.md")
TEMPLATE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
OUTPUTS: dict[str, Any] = TEMPLATE["Outputs"]
MANIFEST: dict[str, Any] = yaml.safe_load((REPO / "forge" / "manifest.yml").read_text())
COUNT = re.compile(r"\b(\d+) (function ARN outputs|functions|alarms|outputs)\b")
# The AWS service each resource type of the template needs deploy rights for, as the page names it.
SERVICES = {
    "AWS::Serverless::Function": "Lambda",
    "AWS::Serverless::LayerVersion": "Lambda",
    "AWS::Lambda::Permission": "Lambda",
    "AWS::Serverless::Api": "API Gateway",
    "AWS::ApiGateway::Account": "API Gateway",
    "AWS::IAM::Role": "IAM",
    "AWS::KMS::Key": "KMS",
    "AWS::KMS::Alias": "KMS",
    "AWS::DynamoDB::Table": "DynamoDB",
    "AWS::SecretsManager::Secret": "Secrets Manager",
    "AWS::Logs::LogGroup": "CloudWatch Logs",
    "AWS::SQS::Queue": "SQS",
    "AWS::Scheduler::Schedule": "EventBridge Scheduler",
    "AWS::Events::EventBus": "EventBridge",
    "AWS::SNS::Topic": "SNS",
    "AWS::SNS::Subscription": "SNS",
    "AWS::CloudWatch::Alarm": "CloudWatch",
    "AWS::CloudWatch::Dashboard": "CloudWatch",
}


def of_type(kind: str) -> list[str]:
    return [name for name, resource in RESOURCES.items() if resource["Type"] == kind]


def actual_counts() -> dict[str, int]:
    return {
        "functions": len(of_type("AWS::Serverless::Function")),
        "alarms": len(of_type("AWS::CloudWatch::Alarm")),
        "outputs": len(OUTPUTS),
        "function ARN outputs": len([name for name in OUTPUTS if name.endswith("FunctionArn")]),
    }


def stated_counts(text: str) -> list[tuple[str, int]]:
    return [(found[2], int(found[1])) for found in COUNT.finditer(text)]


def alarm_names() -> set[str]:
    """Each alarm as the page's alarm table names it: `<stack>-api-5xx-rate`, `<stack>-<function>-errors`
    for the per-function ones, and the logical id of an alarm CloudFormation names."""
    names = set()
    for logical_id in of_type("AWS::CloudWatch::Alarm"):
        name = RESOURCES[logical_id]["Properties"].get("AlarmName")
        if name is None:
            names.add(f"<stack>-{logical_id}-...")
            continue
        suffix = name["Fn::Sub"].replace("${AWS::StackName}-", "")
        per_function = re.fullmatch(r"[a-z-]+-(errors|throttles)", suffix)
        names.add(f"<stack>-<function>-{per_function[1]}" if per_function else f"<stack>-{suffix}")
    return names


def test_the_page_states_how_many_functions_alarms_and_outputs_the_template_has() -> None:
    kinds = {kind for kind, _ in stated_counts(DEPLOYMENT)}
    assert kinds == set(actual_counts())


@pytest.mark.parametrize("document", ["docs/DEPLOYMENT.md", "README.md"])
def test_every_count_stated_is_the_templates(document: str) -> None:
    wrong = [(kind, n) for kind, n in stated_counts(read(document)) if n != actual_counts()[kind]]
    assert wrong == [], f"{document} states {wrong}; template.yaml has {actual_counts()}"


def test_the_resource_table_names_every_function() -> None:
    table = " ".join(
        " ".join(cells) for cells in table_rows(section(DEPLOYMENT, "## What the stack creates"))
    )
    missing = [name for name in of_type("AWS::Serverless::Function") if f"`{name}`" not in table]
    assert missing == []


def test_the_outputs_table_lists_exactly_the_templates_outputs() -> None:
    listed = {
        name for cells in table_rows(section(DEPLOYMENT, "### Outputs")) for name in code_spans(cells[0])
    }
    assert listed == set(OUTPUTS)


def test_the_alarm_table_explains_every_alarm() -> None:
    listed = {
        name
        for cells in table_rows(section(DEPLOYMENT, "## Alarms and dashboard"))
        for name in code_spans(cells[0])
    }
    assert alarm_names() <= listed


def test_the_deploy_rights_name_every_aws_service_the_template_creates_resources_in() -> None:
    rights = section(DEPLOYMENT, "## Prerequisites")
    unknown = {r["Type"] for r in RESOURCES.values()} - set(SERVICES)
    assert unknown == set(), "a new resource type: add its service here and its deploy rights to the page"
    missing = sorted(
        {SERVICES[r["Type"]] for r in RESOURCES.values()} - set(re.findall(r"\*\*(.+?)\*\*", rights))
    )
    assert missing == []
    assert "account-wide API Gateway setting" in rights
    # SAM turns a function's DeploymentPreference into CodeDeploy resources of its own.
    gradual = "DeploymentPreference" in TEMPLATE["Globals"]["Function"] or any(
        "DeploymentPreference" in (r.get("Properties") or {}) for r in RESOURCES.values()
    )
    assert not gradual or "**CodeDeploy**" in rights


def test_forge_app_id_is_explained_before_the_guided_deploy() -> None:
    deploy = section(DEPLOYMENT, "## Deploy")
    assert "ForgeAppId" in deploy.split("sam deploy --guided")[0]
    readme_deploy = section(read("README.md"), "## Deploy")
    assert "ForgeAppId" in readme_deploy.split("sam deploy --guided")[0]


def test_the_forge_triggers_are_described_with_the_routes_they_call() -> None:
    endpoints = {e["key"]: e for e in MANIFEST["modules"]["endpoint"]}
    for trigger in MANIFEST["modules"]["scheduledTrigger"]:
        assert trigger["interval"] == "day"  # the page says "daily" / "once a day"
        assert f"`{trigger['key']}`" in DEPLOYMENT
        assert f"`POST {endpoints[trigger['endpoint']]['route']['path']}`" in DEPLOYMENT


def test_the_page_is_reached_by_one_menu_path_everywhere() -> None:
    (page,) = MANIFEST["modules"]["jira:adminPage"]
    path = f"*Settings > Apps > {page['title']}*"
    for document in ("README.md", "docs/DEPLOYMENT.md"):
        text = read(document)
        assert path in text, document
        assert set(re.findall(r"\*Settings > [^*]+\*", text)) == {path}, document
