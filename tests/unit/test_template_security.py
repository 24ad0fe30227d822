"""template.yaml's security properties, read from the template itself: least privilege per function,
the customer managed key everywhere data rests, and the API's logging, tracing and throttling."""

from __future__ import annotations

from typing import Any

import pytest

from local.cfn import load_template
from tests.support.harness import REPO

TEMPLATE = load_template(REPO / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
KEY = {"Fn::GetAtt": ["SecretsKey", "Arn"]}
# Where AWS allows no resource other than "*" (each place says why in a comment beside it).
# Actions AWS authorizes on "*" only. BatchGetSecretValue also needs GetSecretValue on each secret,
# which test_secrets_are_reached_by_name_prefix_only holds to the prefix.
STAR_ALLOWED = {"xray:PutTelemetryRecords", "xray:PutTraceSegments", "secretsmanager:BatchGetSecretValue"}


def of_type(kind: str) -> dict[str, Any]:
    return {name: r for name, r in RESOURCES.items() if r.get("Type") == kind}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for policy in role["Properties"].get("Policies", []) for s in policy["PolicyDocument"]["Statement"]
    ]


def actions_of(role: dict[str, Any]) -> set[str]:
    return {a for s in statements(role) if s["Effect"] == "Allow" for a in as_list(s["Action"])}


@pytest.mark.parametrize("role_name", sorted(of_type("AWS::IAM::Role")))
def test_no_role_has_wildcard_actions_or_resources_beyond_what_aws_requires(role_name: str) -> None:
    for statement in statements(RESOURCES[role_name]):
        actions = as_list(statement["Action"])
        assert not [a for a in actions if "*" in a], statement
        if "*" in as_list(statement["Resource"]):
            assert set(actions) <= STAR_ALLOWED, statement


@pytest.mark.parametrize("function", sorted(of_type("AWS::Serverless::Function")))
def test_every_function_has_its_own_role_and_log_group(function: str) -> None:
    props = RESOURCES[function]["Properties"]
    role = RESOURCES[props["Role"]["Fn::GetAtt"][0]]
    log_group = props["LoggingConfig"]["LogGroup"]["Ref"]
    assert "Policies" not in props and "ManagedPolicyArns" not in role["Properties"]
    log_statements = [s for s in statements(role) if any(a.startswith("logs:") for a in as_list(s["Action"]))]
    assert [s["Resource"] for s in log_statements] == [{"Fn::GetAtt": [log_group, "Arn"]}]


def role_of(function: str) -> dict[str, Any]:
    return RESOURCES[RESOURCES[function]["Properties"]["Role"]["Fn::GetAtt"][0]]  # type: ignore[no-any-return]


def test_functions_that_only_read_metadata_have_no_secrets_manager_permission() -> None:
    for function in ("GetInfoFunction", "HistoryFunction"):
        assert not [a for a in actions_of(role_of(function)) if a.startswith("secretsmanager:")], function


# An org Admin API key's secret: one of its own per saved value, or (until a tenant's next check or
# change moves it) the tenant's former fixed secret (`-??????`: the ARN's random suffix).
API_KEY_SECRETS = (":secret:${SecretPrefix}*/apiKey/*", ":secret:${SecretPrefix}*/apiKey-??????")


def subs(resource: object) -> list[str]:
    """The Fn::Sub strings of a statement's Resource (one, or a list)."""
    return [r["Fn::Sub"] for r in as_list(resource)]  # type: ignore[index]


def test_the_change_functions_can_store_credentials_but_never_read_one_back() -> None:
    # The one exception: change-token reads the org Admin API key, to learn the token's expiry from
    # Atlassian (docs/API.md §4); never a token, and change-key nothing.
    for function, readable in (("ChangeKeyFunction", ()), ("ChangeTokenFunction", API_KEY_SECRETS)):
        for statement in statements(role_of(function)):
            if "secretsmanager:GetSecretValue" in as_list(statement["Action"]):
                resource = statement["Resource"]
                assert resource == {"Ref": "FingerprintKey"} or all(
                    any(sub.endswith(r) for r in readable) for sub in subs(resource)
                ), function


def test_secrets_are_reached_by_name_prefix_only() -> None:
    for role in of_type("AWS::IAM::Role").values():
        for statement in statements(role):
            actions = set(as_list(statement["Action"])) - {"secretsmanager:BatchGetSecretValue"}
            if any(a.startswith("secretsmanager:") for a in actions):
                resource = statement["Resource"]
                assert resource == {"Ref": "FingerprintKey"} or all(
                    sub.endswith((":secret:${SecretPrefix}*", *API_KEY_SECRETS)) for sub in subs(resource)
                ), statement


def test_kms_use_is_through_aws_services_only() -> None:
    for role in of_type("AWS::IAM::Role").values():
        for statement in statements(role):
            if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                assert statement["Resource"] == KEY
                assert "kms:ViaService" in statement["Condition"]["StringEquals"]


def test_the_key_rotates_and_its_policy_grants_no_direct_cryptographic_use() -> None:
    key = RESOURCES["SecretsKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    crypto = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKey*", "kms:ReEncrypt*"}
    for statement in key["KeyPolicy"]["Statement"]:
        principal = statement["Principal"]
        if crypto & set(as_list(statement["Action"])):
            # either through a named AWS service, or the logs service for this stack's log groups only
            assert "kms:ViaService" in statement.get("Condition", {}).get("StringEquals", {}) or (
                "Service" in principal and "ArnLike" in statement["Condition"]
            ), statement["Sid"]


def test_data_at_rest_is_encrypted_with_the_customer_managed_key() -> None:
    for name, table in of_type("AWS::DynamoDB::Table").items():
        sse = table["Properties"]["SSESpecification"]
        assert sse["SSEEnabled"] and sse["KMSMasterKeyId"] == KEY, name
        assert table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], name
    assert RESOURCES["CredentialsTable"]["Properties"]["DeletionProtectionEnabled"] is True
    for name, group in of_type("AWS::Logs::LogGroup").items():
        assert group["Properties"]["KmsKeyId"] == KEY, name
    for name, secret in of_type("AWS::SecretsManager::Secret").items():
        assert secret["Properties"]["KmsKeyId"] == KEY, name
    for name, queue in of_type("AWS::SQS::Queue").items():
        assert queue["Properties"].get("KmsMasterKeyId") == KEY, f"{name} must use the customer managed key"


def test_the_api_logs_traces_and_throttles_and_never_logs_bodies() -> None:
    api = RESOURCES["Api"]["Properties"]
    assert api["TracingEnabled"] is True
    assert api["AccessLogSetting"]["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    (settings,) = api["MethodSettings"]
    assert settings["ResourcePath"] == "/*" and settings["HttpMethod"] == "*"
    assert settings["ThrottlingBurstLimit"] and settings["ThrottlingRateLimit"]
    assert settings["DataTraceEnabled"] is False
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == "Active"
    assert "ALLOW_INSECURE_LOOPBACK" not in TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]


def test_every_ops_route_uses_iam_without_the_callers_credentials() -> None:
    found = 0
    for function in of_type("AWS::Serverless::Function").values():
        for event in function["Properties"].get("Events", {}).values():
            props = event["Properties"]
            if event["Type"] == "Api" and props["Path"].startswith("/ops/"):
                found += 1
                assert props["Auth"] == {"Authorizer": "AWS_IAM", "InvokeRole": "NONE"}
            elif event["Type"] == "Api":
                assert "Auth" not in props  # the Forge token is checked in the function
    assert found


def test_every_answer_of_api_gateway_itself_sends_hsts() -> None:
    for name, response in RESOURCES["Api"]["Properties"]["GatewayResponses"].items():
        headers = response["ResponseParameters"]["Headers"]
        assert headers["Strict-Transport-Security"] == "'max-age=31536000; includeSubDomains'", name
