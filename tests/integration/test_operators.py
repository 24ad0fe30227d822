"""The operators' /ops/tenants/{tenantId}/api-info routes: AWS_IAM, the same functions, the same answers."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from api_info.wiring import services
from local.cfn import functions, load_template
from local.dev_issuer import installation
from tests.support.harness import OPERATOR, REPO, Api, LambdaContext

OPS = "/ops/tenants/{tenantId}"
GOOD_KEY = "sim-admin-key-unscoped-GOOD1"


def test_every_api_info_route_has_an_iam_twin_served_by_the_same_function() -> None:
    # template.yaml is the source of truth for the routes API Gateway serves
    routes = {
        (route.method, route.path): (spec.logical_id, route.iam)
        for spec in functions(load_template(REPO / "template.yaml"))
        for route in spec.routes
    }
    forge = {key: value for key, value in routes.items() if key[1].startswith("/api-info")}
    ops = {key: value for key, value in routes.items() if key[1].startswith("/ops/")}

    assert forge, "no /api-info route found"
    for (method, path), (function, iam) in forge.items():
        assert not iam, f"{method} {path} must check the Forge token, not IAM"
        assert ops.get((method, OPS + path)) == (function, True), f"{method} {path} has no /ops twin"
    # The personal data route's twin takes an operator's word on one account (it cannot report).
    twin = ops.pop(("POST", "/ops/tenants/{tenantId}/personal-data"))
    assert twin == (routes[("POST", "/lifecycle/personal-data")][0], True)
    assert len(ops) == len(forge), "an /ops route has no /api-info original"


def test_an_operator_sees_the_same_info_page_as_the_sites_administrator(api: Api) -> None:
    # Given a site that saved a key
    api.call("change_key", body={"apiKey": GOOD_KEY})

    # When an operator asks for it
    ops = api.call("get_info", operator=OPERATOR)

    # Then the answer is the administrator's, byte for byte
    assert ops.status == 200
    assert ops.body == api.call("get_info").body
    assert ops.headers["strict-transport-security"].startswith("max-age=31536000")
    assert ops.body["apiKey"]["maskedValue"] == "••••••••OOD1"


def test_an_operators_change_is_recorded_with_the_iam_arn_as_actor(api: Api) -> None:
    api.call("get_info")  # the site was seen once

    changed = api.call("change_key", body={"apiKey": GOOD_KEY}, operator=OPERATOR)
    token = api.call(
        "change_token",
        body={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"},
        operator=OPERATOR,
    )
    history = api.call("history", operator=OPERATOR)

    assert changed.status == 200, changed.body
    assert changed.body["apiKey"]["createdBy"] == {"type": "aws", "arn": OPERATOR}
    assert token.status == 200, token.body
    assert [e["actor"] for e in history.body["events"]] == [{"type": "aws", "arn": OPERATOR}] * 2
    assert api.call("history").body == history.body  # the administrator sees the same trail


def test_an_operator_can_delete_a_credential(api: Api) -> None:
    api.call("change_key", body={"apiKey": GOOD_KEY})

    deleted = api.call("delete_key", operator=OPERATOR)

    assert deleted.status == 200
    assert deleted.body["apiKey"]["status"] == "not_configured"
    assert api.call("get_info").body["apiKey"]["status"] == "not_configured"
    assert api.call("delete_token", operator=OPERATOR).status == 200


@pytest.mark.parametrize("sample", ["get_info", "change_key", "history", "delete_key", "delete_token"])
def test_an_unknown_tenant_is_404(api: Api, sample: str) -> None:
    answer = api.call(sample, operator=OPERATOR, ops_tenant="ari:cloud:ecosystem::installation/nobody")

    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"


@pytest.mark.parametrize("arn", ["", "alice", "arn:aws:iam::12345:user/short-account"])
def test_without_an_iam_identity_an_ops_route_is_403_even_with_a_valid_forge_token(
    api: Api, arn: str
) -> None:
    api.call("get_info")

    # The Forge token of the site's own administrator is on the request, but /ops reads only IAM
    answer = api.call("get_info", operator=arn)

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


def test_an_ops_route_ignores_any_forge_token(api: Api) -> None:
    # Given two sites, and a request for acme that carries globex's (or a broken) token
    api.call("get_info", tenant="acme")
    api.call("change_key", body={"apiKey": GOOD_KEY}, tenant="globex")

    with_other_token = api.call("get_info", operator=OPERATOR, token=api.token(tenant="globex"))
    with_garbage = api.call("get_info", operator=OPERATOR, token="garbage")

    # Then the path's tenant is the one served, and the token changes nothing
    acme_id = installation("acme")["installationId"]
    for answer in (with_other_token, with_garbage):
        assert answer.status == 200
        assert answer.body["tenant"]["installationId"] == acme_id
        assert answer.body["apiKey"]["status"] == "not_configured"


def test_an_api_info_route_with_only_an_iam_identity_is_401(api: Api) -> None:
    # An IAM identity on a Forge route does not stand in for the token
    module = api.handlers[("GET", "/api-info")]
    event = json.loads((REPO / "events" / "get_info.json").read_text())
    del event["headers"]["Authorization"]
    event["requestContext"]["identity"]["userArn"] = OPERATOR
    result = module.lambda_handler(event, LambdaContext())
    assert result["statusCode"] == 401
    assert json.loads(result["body"])["error"]["code"] == "unauthenticated"


def console_test_event(tenant_id: str) -> dict[str, Any]:
    event = copy.deepcopy(json.loads((REPO / "events" / "ops_get_info_console_test.json").read_text()))
    event["path"] = event["path"].replace("ari:cloud:ecosystem::installation/<uuid>", tenant_id)
    event["requestContext"]["path"] = event["path"]
    event["pathParameters"] = {"tenantId": tenant_id}
    return event


def test_the_api_gateway_consoles_test_feature_works(api: Api) -> None:
    # Given a known site, and the console's Test: no headers at all, the console user's ARN as identity,
    # the installation id typed as is into {tenantId}
    api.call("change_key", body={"apiKey": GOOD_KEY})
    tenant_id = installation("acme")["installationId"]
    event = console_test_event(tenant_id)

    # When
    result = api.handlers[("GET", OPS + "/api-info")].lambda_handler(event, LambdaContext())

    # Then
    assert result["statusCode"] == 200, result["body"]
    body = json.loads(result["body"])
    assert body["tenant"]["installationId"] == tenant_id
    assert body["apiKey"]["maskedValue"] == "••••••••OOD1"


@pytest.mark.parametrize("sample", ["get_info", "change_key", "delete_key", "history"])
def test_a_tenant_id_encoded_twice_is_404_and_changes_nothing(api: Api, sample: str) -> None:
    # Given a site with a key
    api.call("change_key", body={"apiKey": GOOD_KEY})
    tenant_id = installation("acme")["installationId"]

    # When an operator's path carries its id encoded twice (ari%253Acloud...): API Gateway decodes
    # path parameters once, so the function gets ari%3Acloud..., which an IAM policy on the path for
    # ari%3Acloud... does not cover (the console's Test passes an id typed URL-encoded the same way)
    answer = api.call(sample, operator=OPERATOR, ops_tenant=quote(tenant_id, safe=""))

    # Then it names no installation, and the site is as it was
    assert answer.status == 404
    assert answer.body["error"]["code"] == "not_found"
    info = api.call("get_info").body
    assert (info["apiKey"]["status"], info["apiKey"]["maskedValue"]) == ("valid", "••••••••OOD1")
    assert len(api.call("history").body["events"]) == 1


def test_a_tenant_id_too_long_for_a_dynamodb_key_is_404(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given DynamoDB's rule, which moto does not apply: a partition key over 2,048 bytes is a
    # ValidationException (a 500 here, were it asked)
    tenants = services().tenants
    lookup = tenants.tenant

    def as_dynamodb(tenant_id: str) -> Any:
        if len(f"TENANT#{tenant_id}".encode()) > 2048:
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "key too long"}}, "GetItem"
            )
        return lookup(tenant_id)

    monkeypatch.setattr(tenants, "tenant", as_dynamodb)

    # When an operator names such a tenant
    answer = api.call(
        "get_info", operator=OPERATOR, ops_tenant="ari:cloud:ecosystem::installation/" + "x" * 3000
    )

    # Then it is an unknown tenant, as for any id that names none
    assert (answer.status, answer.body["error"]["code"]) == (404, "not_found")
