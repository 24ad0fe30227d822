"""POST /api-info/check: the same check on demand, at most once per 30 s per tenant."""

from __future__ import annotations

import time
import uuid

import boto3

from local.atlassian_sim import ORG_ID, ORG_NAME, AtlassianSimulator
from tests.support.checks import Checks, tenant_id
from tests.support.harness import NOT_ADMIN, Api
from tests.support.state import history_items


def new_key(simulator: AtlassianSimulator) -> str:
    key = f"sim-admin-key-now-{uuid.uuid4().hex[:8]}"
    simulator.add_key(key, ORG_ID, ORG_NAME)
    return key


def backdate_last_request(aws: dict[str, str], tenant: str, seconds: int) -> None:
    """Stand in for the wait: move the tenant's last on-demand check `seconds` into the past."""
    boto3.client("dynamodb").update_item(
        TableName=aws["TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{tenant_id(tenant)}"}, "SK": {"S": "TENANT"}},
        UpdateExpression="SET lastCheckRequestedAt = :at",
        ExpressionAttributeValues={":at": {"N": str(int(time.time()) - seconds)}},
    )


def test_a_check_now_answers_like_get_info_after_checking(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator
) -> None:
    api.call("change_key", body={"apiKey": new_key(simulator)})
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"})
    simulator.reset()

    answer = api.call("check_now")

    assert answer.status == 200
    assert set(answer.body) == set(api.call("get_info").body)
    assert answer.body == api.call("get_info").body
    assert answer.body["apiKey"]["lastCheck"]["outcome"] == "ok"
    assert answer.body["apiToken"]["lastCheck"]["outcome"] == "ok"
    assert ("GET", "/admin/v1/orgs") in simulator.requests
    assert ("GET", "/rest/api/3/myself") in simulator.requests
    checked = [e for e in history_items(aws["TABLE_NAME"], tenant_id()) if e["action"]["S"] == "checked"]
    assert {e["actor"]["M"]["type"]["S"] for e in checked} == {"atlassian"}
    assert {e["actor"]["M"]["accountId"]["S"] for e in checked} == {"sim-admin-0001"}


def test_a_revoked_key_found_on_demand_is_invalid_and_announced(
    api: Api, simulator: AtlassianSimulator, checks: Checks
) -> None:
    key = new_key(simulator)
    api.call("change_key", body={"apiKey": key})
    simulator.remove_key(key)

    answer = api.call("check_now")

    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == "invalid"
    assert answer.body["apiKey"]["lastCheck"]["outcome"] == "rejected"
    assert [e["detail"]["status"] for e in checks.events()] == ["invalid"]


def test_a_second_check_within_30_seconds_is_429_with_retry_after(
    api: Api, simulator: AtlassianSimulator
) -> None:
    api.call("change_key", body={"apiKey": new_key(simulator)})
    assert api.call("check_now").status == 200
    simulator.reset()

    answer = api.call("check_now")

    assert answer.status == 429
    assert answer.body["error"]["code"] == "rate_limited"
    assert answer.body["error"]["message"]
    assert 1 <= int(answer.headers["retry-after"]) <= 30
    assert simulator.requests == [] or all("/admin/" not in path for _, path in simulator.requests)


def test_the_limit_is_per_tenant(api: Api) -> None:
    assert api.call("check_now", tenant="acme").status == 200

    assert api.call("check_now", tenant="beta").status == 200
    assert api.call("check_now", tenant="acme").status == 429


def test_after_30_seconds_the_tenant_may_check_again(api: Api, aws: dict[str, str]) -> None:
    assert api.call("check_now").status == 200
    backdate_last_request(aws, "acme", 29)
    answer = api.call("check_now")
    assert answer.status == 429
    assert answer.headers["retry-after"] == "1"

    backdate_last_request(aws, "acme", 30)

    assert api.call("check_now").status == 200


def test_a_site_with_nothing_stored_checks_nothing(api: Api, simulator: AtlassianSimulator) -> None:
    simulator.reset()

    answer = api.call("check_now")

    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == answer.body["apiToken"]["status"] == "not_configured"
    assert all(path.endswith("/permissions/check") for _, path in simulator.requests)


def test_only_administrators_may_check_and_a_refusal_uses_up_nothing(api: Api) -> None:
    answer = api.call("check_now", account=NOT_ADMIN)

    assert answer.status == 403
    assert api.call("check_now").status == 200


def test_an_atlassian_failure_is_shown_as_an_error_and_keeps_the_status(
    api: Api, simulator: AtlassianSimulator
) -> None:
    key = new_key(simulator)
    api.call("change_key", body={"apiKey": key})
    simulator.add_key(key, ORG_ID, ORG_NAME, behaviour="error")

    answer = api.call("check_now")

    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == "valid"
    assert answer.body["apiKey"]["lastCheck"] == {
        "at": answer.body["apiKey"]["lastCheck"]["at"],
        "outcome": "error",
        "detail": "atlassian_error",
    }
