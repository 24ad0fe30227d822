"""One secret per saved value (issue 25, point 6): a former token owner stays in no secret, each value's
secret is named with the change that saved it, and tenants kept in the former fixed secret are moved
at their next check or change."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from api_info.credentials import API_TOKEN
from api_info.wiring import services
from local.atlassian_sim import AtlassianSimulator
from local.dev_issuer import installation
from tests.support.checks import Checks
from tests.support.harness import Api
from tests.support.state import ref, secret_name, tenant_secrets

ADA = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
BOB = {"email": "bob@acme.test", "apiToken": "sim-token-bob-SECRET-BOB1"}
KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}


@pytest.fixture
def bob(simulator: AtlassianSimulator) -> None:
    simulator.add_token(BOB["email"], BOB["apiToken"], "sim-account-bob", "Bob Builder")


def acme() -> str:
    return installation("acme")["installationId"]


def credential_item(credential: str) -> dict[str, Any]:
    return boto3.client("dynamodb").get_item(  # type: ignore[no-any-return]
        TableName=services().settings.table_name,
        Key={"PK": {"S": f"TENANT#{acme()}"}, "SK": {"S": f"CRED#{credential}"}},
    )["Item"]


@pytest.mark.usefixtures("bob")
def test_a_token_replaced_by_another_accounts_leaves_nothing_of_the_former_owner_in_any_secret(
    api: Api,
) -> None:
    # Given Ada's token, then Bob's in its place
    assert api.call("change_token", body=ADA).status == 200
    assert api.call("change_token", body=BOB).status == 200

    # Then no version of any secret of the site holds Ada's email or token; Bob's is the one in use
    held = tenant_secrets(acme())
    everything = json.dumps(held)
    assert ADA["email"] not in everything and ADA["apiToken"] not in everything
    assert held == {secret_name(acme(), "apiToken"): [json.dumps(BOB)]}


def test_each_saved_value_lives_in_a_secret_named_with_the_change_that_saved_it(api: Api) -> None:
    names = []
    for _ in range(2):
        assert api.call("change_key", body=KEY).status == 200
        item = credential_item("apiKey")
        names.append(item["secretName"]["S"])
        # the record names its secret, and the name carries the change (its version id)
        assert item["secretVersionId"]["S"] in names[-1]
        assert "retiredSecrets" not in item  # the former one is deleted, not merely listed

    assert names[0] != names[1]
    assert set(tenant_secrets(acme())) == {names[1]}


def make_legacy(credential: str, versions: list[dict[str, str]]) -> str:
    """Turn the stored credential into what an earlier version left: every value in versions of one
    fixed secret (the last one the record's), the record naming no secret."""
    client = boto3.client("secretsmanager")
    item = credential_item(credential)
    version_id = item["secretVersionId"]["S"]
    legacy = services().secrets.fixed_name(ref(acme(), credential))
    client.create_secret(Name=legacy, SecretString=json.dumps(versions[0]))
    for value in versions[1:-1]:
        client.put_secret_value(SecretId=legacy, SecretString=json.dumps(value))
    client.put_secret_value(
        SecretId=legacy, SecretString=json.dumps(versions[-1]), ClientRequestToken=version_id
    )
    client.delete_secret(SecretId=item["secretName"]["S"], ForceDeleteWithoutRecovery=True)
    boto3.client("dynamodb").update_item(
        TableName=services().settings.table_name,
        Key={"PK": item["PK"], "SK": item["SK"]},
        UpdateExpression="REMOVE secretName",
    )
    services().reader._cache.clear()
    return legacy


@pytest.mark.usefixtures("bob")
def test_a_tenant_in_the_former_fixed_secret_is_moved_at_its_next_check(api: Api, checks: Checks) -> None:
    # Given Bob's token in the former fixed secret, whose older version still holds Ada's
    assert api.call("change_token", body=BOB).status == 200
    legacy = make_legacy("apiToken", [ADA, BOB])
    assert services().reader.current(acme(), API_TOKEN, refresh=True) is not None  # still read there

    # When the daily check runs
    assert checks.run("acme") == {"batchItemFailures": []}

    # Then the value has a secret of its own, the fixed one is gone with Ada, and the app reads Bob's
    item = credential_item("apiToken")
    assert item["secretName"]["S"] != legacy
    assert tenant_secrets(acme()) == {item["secretName"]["S"]: [json.dumps(BOB)]}
    current = services().reader.current(acme(), API_TOKEN, refresh=True)
    assert current is not None and current.email == BOB["email"]
    assert api.call("get_info").body["apiToken"]["status"] == "valid"


@pytest.mark.usefixtures("bob")
def test_a_tenant_in_the_former_fixed_secret_is_moved_by_its_next_change(api: Api) -> None:
    assert api.call("change_token", body=ADA).status == 200
    make_legacy("apiToken", [ADA])

    assert api.call("change_token", body=BOB).status == 200

    assert tenant_secrets(acme()) == {secret_name(acme(), "apiToken"): [json.dumps(BOB)]}


def test_the_on_demand_check_moves_a_key_out_of_the_former_fixed_secret(api: Api) -> None:
    assert api.call("change_key", body=KEY).status == 200
    legacy = make_legacy("apiKey", [KEY])

    assert api.call("check_now").status == 200

    assert legacy not in tenant_secrets(acme())
    assert list(tenant_secrets(acme()).values()) == [[json.dumps(KEY)]]
