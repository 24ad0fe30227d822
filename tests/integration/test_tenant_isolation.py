"""Tenant isolation on every route: with its own token, site A can never read, change, check, see the
history of or delete site B's data. The tenant comes from the token alone; nothing in the request's
path, query, headers or body can name another one."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from local.cfn import functions, load_template
from local.dev_issuer import installation
from tests.support.harness import REPO, Api, LambdaContext
from tests.support.state import current_secret

A, B = "acme", "globex"
B_ID = installation(B)["installationId"]
KEY_B, TOKEN_B = "sim-admin-key-unscoped-GOOD1", "sim-token-classic-GOOD2"


def snapshot_of_b(aws: dict[str, str]) -> dict[str, Any]:
    """Everything held for B: its DynamoDB items (whatever the partition) and its secrets."""
    items = boto3.client("dynamodb").scan(TableName=aws["TABLE_NAME"])["Items"]
    return {
        "items": sorted(
            str(i) for i in items if B_ID in i["PK"]["S"] and not i["PK"]["S"].startswith("LIMIT#")
        ),
        "key": current_secret(B_ID, "apiKey"),
        "token": current_secret(B_ID, "apiToken"),
    }


@pytest.fixture
def b_configured(api: Api, aws: dict[str, str]) -> dict[str, Any]:
    assert api.call("change_key", body={"apiKey": KEY_B}, tenant=B).status == 200
    body = {"email": "ada@acme.test", "apiToken": TOKEN_B}
    assert api.call("change_token", body=body, tenant=B).status == 200
    return snapshot_of_b(aws)


# Every request A can make; what they return must be A's, and B must be exactly as it was.
A_REQUESTS: dict[str, Callable[[Api], Any]] = {
    "read": lambda api: api.call("get_info", tenant=A),
    "read, B named in the query": lambda api: api.call(
        "get_info", tenant=A, query={"tenantId": B_ID, "installationId": B_ID}
    ),
    "change key": lambda api: api.call("change_key", body={"apiKey": KEY_B}, tenant=A),
    "change key, B named in the body": lambda api: api.call(
        "change_key", body={"apiKey": KEY_B, "installationId": B_ID}, tenant=A
    ),
    "change token": lambda api: api.call(
        "change_token", body={"email": "ada@acme.test", "apiToken": TOKEN_B}, tenant=A
    ),
    "history": lambda api: api.call("history", tenant=A),
    "check now": lambda api: api.call("check_now", tenant=A),
    "delete key": lambda api: api.call("delete_key", tenant=A),
    "delete token": lambda api: api.call("delete_token", tenant=A),
    "uninstall": lambda api: api.call("uninstalled", tenant=A, account=None),
    # B holds Ada as its token's owner too: A's cycle must not erase or rename her in B.
    "personal data cycle": lambda api: api.call("personal_data", tenant=A, account=None),
    "personal data, B named in the body": lambda api: api.call(
        "personal_data", tenant=A, account=None, body={"installationId": B_ID, "accountId": "sim-account-ada"}
    ),
    "change key, B in a path parameter": lambda api: api.call(
        "change_key", body={"apiKey": KEY_B}, tenant=A, path_parameters={"tenantId": B_ID}
    ),
}


@pytest.mark.parametrize("request_name", A_REQUESTS)
def test_a_request_of_site_a_never_touches_site_b(
    api: Api, aws: dict[str, str], b_configured: dict[str, Any], request_name: str
) -> None:
    # When site A makes the request with its own token
    answer = A_REQUESTS[request_name](api)

    # Then nothing of B shows in the answer, and B is exactly as it was
    assert answer.status < 500, answer.body
    assert B_ID not in answer.raw
    assert snapshot_of_b(aws) == b_configured


def test_site_a_sees_only_its_own_info_and_history(api: Api, b_configured: dict[str, Any]) -> None:
    info = api.call("get_info", tenant=A).body
    history = api.call("history", tenant=A).body

    assert info["tenant"]["installationId"] == installation(A)["installationId"]
    assert info["apiKey"]["status"] == info["apiToken"]["status"] == "not_configured"
    assert history == {"events": [], "nextCursor": None}


def test_a_history_cursor_of_site_b_pages_through_site_a_only(api: Api, b_configured: dict[str, Any]) -> None:
    # Given a cursor taken from B's history
    cursor = api.call("history", tenant=B, query={"limit": "1"}).body["nextCursor"]
    assert cursor
    api.call("change_key", body={"apiKey": "sim-admin-key-scoped-SCOP1"}, tenant=A)

    # When A uses it
    page = api.call("history", tenant=A, query={"limit": "100", "cursor": cursor})

    # Then it only ever lists A's events
    assert page.status == 200
    assert {e["code"] for e in page.body["events"]} <= {"api_key_has_scopes"}


def test_a_token_for_site_a_cannot_be_replayed_on_the_operators_routes_of_site_b(
    api: Api, b_configured: dict[str, Any], aws: dict[str, str]
) -> None:
    # The /ops twin of a route, reached with A's Forge token and no IAM identity
    answer = api.call("delete_key", tenant=A, operator="", ops_tenant=B_ID)

    assert answer.status == 403
    assert snapshot_of_b(aws) == b_configured


def test_the_admin_check_of_one_site_does_not_serve_another(api: Api) -> None:
    # Given an administrator of A whose yes-answer is cached
    assert api.call("get_info", tenant=A).status == 200

    # When the same account comes with a token of another site and no system token to ask Jira with
    answer = api.call("get_info", tenant="initech", headers={"x-forge-oauth-system": None})

    # Then that site's answer is not taken from A's cache
    assert answer.status == 403


def test_a_raw_event_naming_b_in_every_field_but_the_token_serves_a(
    api: Api, b_configured: dict[str, Any]
) -> None:
    event = copy.deepcopy(json.loads((REPO / "events" / "get_info.json").read_text()))
    event["headers"]["Authorization"] = f"Bearer {api.token(tenant=A)}"
    event["headers"]["x-forge-oauth-system"] = "sim-system-token-tests"
    event["headers"]["X-Tenant-Id"] = B_ID
    event["pathParameters"] = {"tenantId": B_ID}
    event["stageVariables"] = {"tenantId": B_ID}
    event["requestContext"]["identity"]["userArn"] = "arn:aws:iam::123456789012:user/mallory"

    result = api.handlers[("GET", "/api-info")].lambda_handler(event, LambdaContext())

    assert result["statusCode"] == 200
    assert B_ID not in result["body"]


def test_every_route_of_the_template_is_covered_above() -> None:
    # A route added to template.yaml must get its line in A_REQUESTS (and its sample event).
    covered = {
        "get_info",
        "change_key",
        "change_token",
        "history",
        "check_now",
        "delete_key",
        "delete_token",
        "uninstalled",
        "personal_data",
    }
    samples = {
        (event["httpMethod"], event["resource"])
        for event in (json.loads((REPO / "events" / f"{name}.json").read_text()) for name in covered)
    }
    routes = {
        (route.method, route.path)
        for spec in functions(load_template(REPO / "template.yaml"))
        for route in spec.routes
        if not route.path.startswith("/ops/")
    }
    assert routes == samples, "a route without an isolation test: add it to A_REQUESTS and to `covered`"
