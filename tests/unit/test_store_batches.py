"""The store's batched DynamoDB calls under throttling: unprocessed items are retried after a growing
pause, and a table that keeps refusing makes the call fail instead of spinning (botocore's Stubber
plays DynamoDB: moto never returns unprocessed items)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from api_info.records import HistoryEvent
from api_info.settings import Settings
from api_info.store.history import History, PendingEvent
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
    for _ in range(4):  # the other partitions are empty
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


class Transactions:
    """A DynamoDB client that takes TransactWriteItems and cancels those checking a tenant named gone,
    with the per-action CancellationReasons DynamoDB gives."""

    def __init__(self, gone: str) -> None:
        self.gone = f"TENANT#{gone}"
        self.written: list[list[dict[str, Any]]] = []

    def transact_write_items(self, TransactItems: list[dict[str, Any]]) -> None:
        failed = [
            "ConditionCheck" in action and action["ConditionCheck"]["Key"]["PK"]["S"] == self.gone
            for action in TransactItems
        ]
        if any(failed):
            reasons = [{"Code": "ConditionalCheckFailed" if f else "None"} for f in failed]
            error = {"Error": {"Code": "TransactionCanceledException"}, "CancellationReasons": reasons}
            raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]
        self.written.append(TransactItems)


def test_history_events_go_in_transactions_of_100_actions_and_a_gone_tenants_events_are_dropped() -> None:
    def event(tenant: str) -> PendingEvent:
        at = {"at": "2026-01-01T00:00:00Z", "actor": {"type": "scheduler"}, "credential": "apiKey"}
        return PendingEvent(
            tenant, HistoryEvent.from_item({**at, "action": "checked", "outcome": "succeeded"})
        )

    client = Transactions(gone="c")
    pending = [event("a") for _ in range(150)] + [event("c"), event("b"), event("c")]

    History(SETTINGS, lambda: client).add_events(pending)  # type: ignore[arg-type, return-value]

    assert all(len(actions) <= 100 for actions in client.written)
    puts = [a["Put"]["Item"]["PK"]["S"] for actions in client.written for a in actions if "Put" in a]
    assert sorted(set(puts)) == ["HISTORY#a", "HISTORY#b"] and len(puts) == 151
    for actions in client.written:  # one condition per tenant and transaction, before its events
        checked = [a["ConditionCheck"]["Key"]["PK"]["S"] for a in actions if "ConditionCheck" in a]
        assert len(checked) == len(set(checked))
