"""POST /api-info/check: the same check on demand, at most once per 30 s per tenant."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from local.atlassian_sim import ORG_ID, ORG_NAME, AtlassianSimulator
from tests.support.checks import Checks, fail_publishing, tenant_id
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
    # 25 s ago: a loaded machine may take a few seconds to answer, and the wait left must still show.
    backdate_last_request(aws, "acme", 25)
    answer = api.call("check_now")
    assert answer.status == 429
    assert 1 <= int(answer.headers["retry-after"]) <= 5

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


def checked_events(api: Api) -> list[tuple[str, str, str, str | None, str | None]]:
    return [
        (e["credential"], e["action"], e["outcome"], e["code"], e["maskedValue"])
        for e in api.call("history").body["events"]
        if e["action"] == "checked"
    ]


def test_a_check_now_whose_status_change_cannot_be_announced_is_a_recorded_500(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a key the app was told is invalid, accepted again by Atlassian, a valid token, and
    # EventBridge failing
    key = new_key(simulator)
    api.call("change_key", body={"apiKey": key})
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"})
    simulator.remove_key(key)
    assert api.call("check_now").status == 200
    simulator.add_key(key, ORG_ID, ORG_NAME)
    backdate_last_request(aws, "acme", 30)
    recover = fail_publishing(monkeypatch, "Credential status changed")

    # When the administrator checks now
    answer = api.call("check_now")

    # Then the answer is 500, and the history records the check of each credential as failed with it
    assert (answer.status, answer.body["error"]["code"]) == (500, "internal_error")
    assert sorted(checked_events(api)[:2]) == [
        ("apiKey", "checked", "failed", "internal_error", f"••••••••{key[-4:]}"),
        ("apiToken", "checked", "failed", "internal_error", "••••••••OOD2"),
    ]
    # And the next check announces what this one could not
    recover()
    backdate_last_request(aws, "acme", 30)
    assert api.call("check_now").status == 200
    assert [e["detail"]["status"] for e in checks.events()] == ["invalid", "valid"]


def test_a_check_now_whose_reminder_cannot_be_published_is_a_recorded_500_and_reminds_next_time(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a key that expires in 25 days (the 30-day reminder is due), and EventBridge failing
    key = new_key(simulator)
    expires = datetime.now(UTC).date() + timedelta(days=25)
    api.call("change_key", body={"apiKey": key, "expiresOn": expires.isoformat()})
    recover = fail_publishing(monkeypatch, "Credential expiry reminder")

    answer = api.call("check_now")

    assert (answer.status, answer.body["error"]["code"]) == (500, "internal_error")
    assert checked_events(api) == [("apiKey", "checked", "failed", "internal_error", f"••••••••{key[-4:]}")]
    # The reminder's claim was given back: the next check publishes it
    recover()
    backdate_last_request(aws, "acme", 30)
    assert api.call("check_now").status == 200
    assert [e["detail"]["threshold"] for e in checks.reminders()] == [30]
    assert [e[2] for e in checked_events(api)] == ["succeeded", "failed"]
