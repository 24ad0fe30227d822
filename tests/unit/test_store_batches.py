"""The store's batched DynamoDB calls under throttling: unprocessed items are retried after a growing
pause, and a table that keeps refusing makes the call fail instead of spinning (botocore's Stubber
plays DynamoDB: moto never returns unprocessed items)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from api_info.settings import Settings
from api_info.store.tenants import Tenants

SETTINGS = Settings(forge_app_id="ari:cloud:ecosystem::app/x", table_name="credentials")
TENANT = "ari:cloud:ecosystem::installation/throttled"
KEY = {"PK": {"S": f"TENANT#{TENANT}"}, "SK": {"S": "TENANT"}}


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []
    monkeypatch.setattr("api_info.store.dynamo.time.sleep", slept.append)
    return slept


def refusing(stubber: Stubber, times: int) -> None:
    """The uninstall's first Query finds the tenant item; its delete then comes back unprocessed."""
    stubber.add_response("query", {"Items": [KEY]})
    for _ in range(times):
        stubber.add_response(
            "batch_write_item", {"UnprocessedItems": {"credentials": [{"DeleteRequest": {"Key": KEY}}]}}
        )


def test_an_uninstall_under_throttling_retries_after_a_growing_pause(
    dynamodb: tuple[Any, Stubber], pauses: list[float]
) -> None:
    # Given a table that refuses the delete twice, then takes it
    client, stubber = dynamodb
    refusing(stubber, 2)
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}})
    for _ in range(3):  # the other partitions are empty
        stubber.add_response("query", {"Items": []})

    # When the tenant is deleted
    removed = Tenants(SETTINGS, lambda: client).delete(TENANT)

    # Then the item is removed after two pauses, the second longer
    assert removed == 1
    assert len(pauses) == 2 and pauses[1] > pauses[0] > 0
    stubber.assert_no_pending_responses()


def test_an_uninstall_against_a_table_that_keeps_refusing_gives_up(
    dynamodb: tuple[Any, Stubber], pauses: list[float]
) -> None:
    # Given a table that never takes the delete
    client, stubber = dynamodb
    refusing(stubber, 6)

    # Then the delete fails after five pauses rather than asking again forever
    with pytest.raises(RuntimeError, match="kept returning unprocessed items"):
        Tenants(SETTINGS, lambda: client).delete(TENANT)
    assert len(pauses) == 5
