"""What each request costs in AWS and Atlassian calls: the budget of docs/PERFORMANCE.md, asserted.

The budget is written for the warm steady state: a known tenant, and a container that has already
answered that administrator (the administrator check is cached for 60 s), fetched the JWKS and read
the fingerprint key (cached for 5 minutes). What a fresh container adds on top is asserted separately.
Counts are exact, so that a change in what a route calls shows up here, not in the AWS bill.
"""

from __future__ import annotations

import pytest

from local.atlassian_sim import AtlassianSimulator
from tests.support.calls import Calls, counting
from tests.support.harness import OPERATOR, Api

KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}

# The budget of a successful change: Atlassian, Secrets Manager, DynamoDB (idempotency included).
# Atlassian, for a key: its organizations, then side by side the user-management probe, the workspace
# search and the listing of the organization's keys (one page each here), and the saving
# administrator's display name (once per change). DynamoDB: the former secret, deleted, leaves the
# record's list.
CHANGE_BUDGET = {"atlassian": 5, "secretsmanager": 3, "dynamodb": 6}
KEY_CALLS = ["orgs", "users", "workspaces", "api-keys", "user"]


def within_change_budget(calls: Calls) -> bool:
    return (
        len(calls.atlassian) <= CHANGE_BUDGET["atlassian"]
        and calls.count("secretsmanager") <= CHANGE_BUDGET["secretsmanager"]
        and calls.count("dynamodb") <= CHANGE_BUDGET["dynamodb"]
    )


@pytest.fixture
def warm(api: Api) -> Api:
    """A known tenant with both credentials saved, in a container that has seen its administrator."""
    assert api.call("get_info").status == 200
    assert api.call("change_key", body=KEY, headers={"Idempotency-Key": "warm-key"}).status == 200
    assert api.call("change_token", body=TOKEN, headers={"Idempotency-Key": "warm-token"}).status == 200
    return api


def test_get_info_for_a_known_tenant_is_one_query_and_nothing_else(
    warm: Api, simulator: AtlassianSimulator
) -> None:
    with counting(simulator) as calls:
        answer = warm.call("get_info")

    assert answer.status == 200
    assert calls.by_operation == {"dynamodb.Query": 1}
    assert calls.atlassian == []


def test_a_keyed_key_change_makes_six_dynamodb_two_secrets_manager_and_five_atlassian_calls(
    warm: Api, simulator: AtlassianSimulator
) -> None:
    body = {"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": "2099-01-01"}
    with counting(simulator) as calls:
        answer = warm.call("change_key", body=body, headers={"Idempotency-Key": "budget"})

    assert answer.status == 200
    # The idempotency record (put, then completed), the tenant recorded with the change attempt
    # counted for the rate limit (one transaction), the change lock, the commit (one transaction), and
    # the former secret's name dropped from the record once it is deleted.
    assert {k: v for k, v in calls.by_operation.items() if k.startswith("dynamodb.")} == {
        "dynamodb.PutItem": 1,
        "dynamodb.TransactWriteItems": 2,
        "dynamodb.UpdateItem": 3,
    }
    # The new value's own secret created, then the former one deleted without a recovery window.
    assert [op for service, op in calls.aws if service == "secretsmanager"] == [
        "CreateSecret",
        "DeleteSecret",
    ]
    # /orgs first; the rest side by side, in any order (the admin answer is cached: no /permissions/)
    called = [path.split("?")[0].rsplit("/", 1)[-1] for _, path in calls.atlassian]
    assert called[0] == "orgs" and sorted(called) == sorted(KEY_CALLS)
    assert within_change_budget(calls)


def test_a_keyed_token_change_adds_the_expiry_lookup_to_the_budget(
    warm: Api, simulator: AtlassianSimulator
) -> None:
    with counting(simulator) as calls:
        answer = warm.call(
            "change_token", body={**TOKEN, "expiresOn": "2099-01-01"}, headers={"Idempotency-Key": "budget"}
        )

    assert answer.status == 200
    # The key change's five, and one GetItem: the tenant's API key record, whose organization and
    # secret version the expiry lookup needs (docs/API.md §4; the lock returns only the token's record).
    assert {k: v for k, v in calls.by_operation.items() if k.startswith("dynamodb.")} == {
        "dynamodb.PutItem": 1,
        "dynamodb.TransactWriteItems": 2,
        "dynamodb.UpdateItem": 3,
        "dynamodb.GetItem": 1,
    }
    # The key's secret is read (only when a valid key is stored), then the token's own secret created
    # and the former one deleted.
    assert [op for service, op in calls.aws if service == "secretsmanager"] == [
        "GetSecretValue",
        "CreateSecret",
        "DeleteSecret",
    ]
    # The site's /myself first, then one page of the organization's tokens (100 a page) and the display
    # name side by side.
    called = [path.rsplit("/", 1)[-1] for _, path in calls.atlassian]
    assert called[0] == "myself" and sorted(called[1:]) == ["api-tokens", "user"]
    # The budget of a change, plus that lookup's one DynamoDB read.
    assert calls.count("dynamodb") == CHANGE_BUDGET["dynamodb"] + 1
    assert calls.count("secretsmanager") <= CHANGE_BUDGET["secretsmanager"]
    assert len(calls.atlassian) <= CHANGE_BUDGET["atlassian"]


def test_a_change_without_idempotency_key_skips_the_idempotency_records(
    warm: Api, simulator: AtlassianSimulator
) -> None:
    with counting(simulator) as calls:
        answer = warm.call("change_key", body=KEY)

    assert answer.status == 200
    assert calls.count("dynamodb") == 4, calls.by_operation
    assert calls.count("secretsmanager") == 2
    assert len(calls.atlassian) == len(KEY_CALLS)


def test_a_first_ever_save_creates_the_secret_with_its_value_in_one_call(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given a known tenant whose administrator was seen, with no credential saved yet
    assert api.call("get_info").status == 200

    # When the key is saved for the first time
    with counting(simulator) as calls:
        answer = api.call("change_key", body=KEY)

    # Then the secret is created holding the value (its first version is AWSCURRENT): no promotion
    assert answer.status == 200
    assert [op for service, op in calls.aws if service == "secretsmanager"] == ["CreateSecret"]
    assert within_change_budget(calls)


def test_saving_again_after_a_delete_creates_a_secret_of_its_own_in_one_call(
    warm: Api, simulator: AtlassianSimulator
) -> None:
    assert warm.call("delete_key").status == 200

    with counting(simulator) as calls:
        answer = warm.call("change_key", body=KEY, headers={"Idempotency-Key": "again"})

    assert answer.status == 200
    # A new name: the deleted value's secret stays deleted (no name is ever created twice).
    assert [op for service, op in calls.aws if service == "secretsmanager"] == ["CreateSecret"]
    assert within_change_budget(calls)


def test_a_fresh_container_adds_the_administrator_check_and_the_fingerprint_key_read_once(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given a known tenant with a saved key, seen by an earlier container
    assert api.call("change_key", body=KEY).status == 200
    api.new_container()

    # When the new container's first requests arrive
    with counting(simulator) as first_get:
        assert api.call("get_info").status == 200
    with counting(simulator) as first_change:
        assert api.call("change_key", body=KEY, headers={"Idempotency-Key": "one"}).status == 200
    with counting(simulator) as second_change:
        assert api.call("change_key", body=KEY, headers={"Idempotency-Key": "two"}).status == 200

    # Then the administrator is asked once, and the fingerprint key is read once
    assert first_get.by_operation == {"dynamodb.Query": 1}
    assert [path.rsplit("/", 2)[-2:] for _, path in first_get.atlassian] == [["permissions", "check"]]
    assert first_change.by_operation["secretsmanager.GetSecretValue"] == 1
    assert "secretsmanager.GetSecretValue" not in second_change.by_operation
    # Even with that read, the first change stays within the budget.
    assert within_change_budget(first_change)
    assert within_change_budget(second_change)


def test_get_info_records_a_new_tenant_once(api: Api, simulator: AtlassianSimulator) -> None:
    with counting(simulator) as first:
        assert api.call("get_info", tenant="newcomer").status == 200
    with counting(simulator) as second:
        assert api.call("get_info", tenant="newcomer").status == 200

    assert first.by_operation == {"dynamodb.Query": 1, "dynamodb.UpdateItem": 1}
    assert second.by_operation == {"dynamodb.Query": 1}


def test_the_other_routes(warm: Api, simulator: AtlassianSimulator) -> None:
    with counting(simulator) as history:
        assert warm.call("history").status == 200
    with counting(simulator) as delete:
        assert warm.call("delete_token").status == 200
    with counting(simulator) as uninstall:
        assert warm.call("uninstalled", account=None).status == 204

    assert history.by_operation == {"dynamodb.Query": 1}
    # The lock (which returns the record), then the record's removal with its history event.
    assert delete.by_operation == {
        "dynamodb.UpdateItem": 1,
        "dynamodb.TransactWriteItems": 1,
        "secretsmanager.DeleteSecret": 1,
    }
    # The secrets the credential items name read; the tenant's, history, rate-limit, Idempotency-Key and
    # held accounts' partitions listed and removed (fewer than 25 items each); the key's secret (the
    # token was deleted just before) scheduled for deletion.
    assert uninstall.by_operation == {
        "dynamodb.Query": 6,
        "dynamodb.BatchWriteItem": 5,
        "secretsmanager.DeleteSecret": 1,
    }
    assert history.atlassian == delete.atlassian == uninstall.atlassian == []


@pytest.mark.parametrize(
    ("sample", "body", "dynamodb", "secretsmanager", "reads"),
    [
        ("get_info", None, 2, 0, 1),
        ("history", None, 2, 0, 1),
        ("change_key", KEY, 7, 2, 1),
        # The token's expiry lookup reads the key's record and secret, as on the /api-info route.
        ("change_token", TOKEN, 8, 3, 2),
    ],
    ids=["get-info", "history", "change-key", "change-token"],
)
def test_an_operators_twin_route_adds_one_read_of_the_tenant_and_asks_no_administrator(
    warm: Api,
    simulator: AtlassianSimulator,
    sample: str,
    body: dict[str, str] | None,
    dynamodb: int,
    secretsmanager: int,
    reads: int,
) -> None:
    # The /ops routes are IAM-signed: no Forge token and no administrator check, but the tenant of the
    # path is read (GetItem) to refuse an unknown one and to know its site.
    headers = {"Idempotency-Key": "ops"} if body else None
    with counting(simulator) as calls:
        answer = warm.call(sample, body=body, headers=headers, operator=OPERATOR)

    assert answer.status == 200
    assert calls.by_operation["dynamodb.GetItem"] == reads
    assert calls.count("dynamodb") == dynamodb, calls.by_operation
    assert calls.count("secretsmanager") == secretsmanager
    assert all("/permissions/" not in path for _, path in calls.atlassian)
