"""Idempotency-Key on the change routes: replay, refusal for another body, tenant scope."""

from __future__ import annotations

import boto3

from local.atlassian_sim import AtlassianSimulator
from tests.support.harness import Api

GOOD = {"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": "2099-01-01"}


def atlassian_calls(simulator: AtlassianSimulator) -> int:
    return sum(1 for _, path in simulator.requests if "/permissions/" not in path)


def test_the_same_key_and_body_replays_the_first_answer_without_asking_atlassian(
    api: Api, simulator: AtlassianSimulator
) -> None:
    first = api.call("change_key", body=GOOD, headers={"Idempotency-Key": "save-1"})
    asked = atlassian_calls(simulator)

    again = api.call("change_key", body=GOOD, headers={"Idempotency-Key": "save-1"})

    assert first.status == again.status == 200
    assert again.body == first.body
    assert atlassian_calls(simulator) == asked


def test_the_same_key_with_another_body_is_409_and_changes_nothing(api: Api) -> None:
    api.call("change_key", body=GOOD, headers={"Idempotency-Key": "save-2"})
    before = api.call("get_info").body["apiKey"]

    answer = api.call(
        "change_key", body={**GOOD, "expiresOn": "2098-01-01"}, headers={"Idempotency-Key": "save-2"}
    )

    assert answer.status == 409
    assert answer.body["error"]["code"] == "idempotency_key_reused"
    assert api.call("get_info").body["apiKey"] == before


def test_a_rejection_is_replayed_too(api: Api, simulator: AtlassianSimulator) -> None:
    scoped = {"apiKey": "sim-admin-key-scoped-SCOP1"}
    first = api.call("change_key", body=scoped, headers={"Idempotency-Key": "save-3"})
    asked = atlassian_calls(simulator)

    again = api.call("change_key", body=scoped, headers={"Idempotency-Key": "save-3"})

    assert first.body["error"]["code"] == again.body["error"]["code"] == "api_key_has_scopes"
    assert atlassian_calls(simulator) == asked


def test_a_transient_failure_is_not_remembered_so_a_retry_runs_again(
    api: Api, simulator: AtlassianSimulator
) -> None:
    simulator.add_key("sim-admin-key-flaky-FLK1", org_id="sim-org-acme", org_name="Acme", behaviour="error")
    body = {"apiKey": "sim-admin-key-flaky-FLK1"}
    assert api.call("change_key", body=body, headers={"Idempotency-Key": "save-4"}).status == 502

    simulator.add_key("sim-admin-key-flaky-FLK1", org_id="sim-org-acme", org_name="Acme")
    answer = api.call("change_key", body=body, headers={"Idempotency-Key": "save-4"})

    assert answer.status == 200


def test_keys_are_scoped_to_the_tenant(api: Api) -> None:
    api.call("change_key", body=GOOD, headers={"Idempotency-Key": "shared"}, tenant="acme")

    answer = api.call(
        "change_key", body={"apiKey": GOOD["apiKey"]}, headers={"Idempotency-Key": "shared"}, tenant="globex"
    )

    assert answer.status == 200
    assert api.call("get_info", tenant="globex").body["apiKey"]["expiresOn"] is None


def test_the_token_route_takes_keys_too(api: Api) -> None:
    body = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
    first = api.call("change_token", body=body, headers={"Idempotency-Key": "tok-1"})
    reused = api.call(
        "change_token", body={**body, "email": "ADA@acme.test"}, headers={"Idempotency-Key": "tok-1"}
    )

    assert first.status == 200
    assert reused.body["error"]["code"] == "idempotency_key_reused"


def test_a_malformed_key_is_422(api: Api) -> None:
    for bad in ("has space", "x" * 129, "semi;colon"):
        answer = api.call("change_key", body=GOOD, headers={"Idempotency-Key": bad})
        assert answer.status == 422, bad
        assert answer.body["error"]["details"][0]["field"].lower() == "idempotency-key"


def test_idempotency_records_hold_no_secret_and_no_plain_hash_of_one(api: Api, aws: dict[str, str]) -> None:
    import hashlib
    import json

    api.call("change_key", body=GOOD, headers={"Idempotency-Key": "save-5"})

    items = boto3.client("dynamodb").scan(TableName=aws["TABLE_NAME"])["Items"]
    items = [item for item in items if item["PK"]["S"].startswith("IDEMPOTENCY#")]
    blob = json.dumps(items)
    assert items
    assert GOOD["apiKey"] not in blob
    plain = [
        hashlib.md5(GOOD["apiKey"].encode()).hexdigest(),
        hashlib.sha256(GOOD["apiKey"].encode()).hexdigest(),
    ]
    assert not any(h in blob for h in plain)
