"""DynamoDB plumbing of the store: (de)serialising, the table's keys, and the calls several modules make.

One table holds, per tenant, a partition `TENANT#<installationId>` (the tenant item and one item per
credential: metadata and masked value only), `HISTORY#<installationId>` (the audit trail),
`LIMIT#<installationId>` (rate-limit counters), `IDEMPOTENCY#<installationId>` (Idempotency-Key
records) and `ACCOUNTS#<installationId>` (the Atlassian accounts the history holds, store.accounts).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from api_info.errors import ChangeInProgress
from api_info.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

TENANT_SK = "TENANT"
BATCH_GET_LIMIT = 100  # keys per BatchGetItem
BATCH_WRITE_LIMIT = 25  # requests per BatchWriteItem
BATCH_RETRIES = 5  # rounds of unprocessed items retried before giving up
TRANSACT_ATTEMPTS = 3  # a transaction cancelled by a conflicting one is tried this many times
TRANSACT_LIMIT = 100  # actions per TransactWriteItems


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """A DynamoDB item (attribute values) from plain values; None values are left out."""
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Plain values from a DynamoDB item."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def history_pk(tenant_id: str) -> str:
    return f"HISTORY#{tenant_id}"


def idempotency_pk(tenant_id: str) -> str:
    return f"IDEMPOTENCY#{tenant_id}"


def limit_pk(tenant_id: str) -> str:
    # Counters live in a partition of their own, so that GET /api-info's Query never reads them.
    return f"LIMIT#{tenant_id}"


def accounts_pk(tenant_id: str) -> str:
    # Its own partition: the tenant partition's one-page Queries (GET /api-info, the checks) never read it.
    return f"ACCOUNTS#{tenant_id}"


def tenant_partitions(tenant_id: str) -> tuple[str, ...]:
    """Every partition held for a tenant."""
    return (
        tenant_pk(tenant_id),
        history_pk(tenant_id),
        limit_pk(tenant_id),
        idempotency_pk(tenant_id),
        accounts_pk(tenant_id),
    )


class Table:
    """The credentials table and the container's DynamoDB client, made on first use."""

    def __init__(self, settings: Settings, dynamodb: Callable[[], DynamoDBClient]) -> None:
        self._settings = settings
        self._table = settings.table_name
        self._dynamodb = dynamodb

    @property
    def dynamodb(self) -> DynamoDBClient:
        return self._dynamodb()

    def batch_get(self, keys: Sequence[dict[str, Any]], **options: Any) -> Iterator[dict[str, Any]]:
        """The items of `keys` (raw), 100 keys per BatchGetItem, unprocessed keys retried with backoff."""
        pending, retries = list(keys), 0
        while pending:
            chunk, pending = pending[:BATCH_GET_LIMIT], pending[BATCH_GET_LIMIT:]
            request: Any = {"Keys": chunk, **options}  # the options are typed by the caller's call
            answer = self.dynamodb.batch_get_item(RequestItems={self._table: request})
            yield from answer.get("Responses", {}).get(self._table, [])
            left = answer.get("UnprocessedKeys", {}).get(self._table)
            if left and left["Keys"]:
                retries = _back_off(retries)
                pending = [*left["Keys"], *pending]

    def batch_write(self, requests: Sequence[WriteRequestTypeDef | WriteRequestOutputTypeDef]) -> None:
        """Send every request, 25 per BatchWriteItem, unprocessed ones retried with backoff."""
        pending, retries = list(requests), 0
        while pending:
            chunk, pending = pending[:BATCH_WRITE_LIMIT], pending[BATCH_WRITE_LIMIT:]
            answer = self.dynamodb.batch_write_item(RequestItems={self._table: chunk})
            unprocessed = list(answer.get("UnprocessedItems", {}).get(self._table, []))
            if unprocessed:
                retries = _back_off(retries)
                pending = [*unprocessed, *pending]

    def partition_keys(self, pk: str) -> list[dict[str, Any]]:
        """The keys of every item of one partition, read consistently, a page at a time."""
        keys: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {}
        while True:
            answer = self.dynamodb.query(
                TableName=self._table,
                KeyConditionExpression="PK = :pk",
                ExpressionAttributeValues={":pk": {"S": pk}},
                ProjectionExpression="PK, SK",
                ConsistentRead=True,
                **kwargs,
            )
            keys.extend(answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return keys
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def transact(self, items: list[Any]) -> bool:
        """One transaction, tried again when another one conflicted with it; False when DynamoDB
        cancelled it because one of its conditions failed."""
        return not self.failed_conditions(items)

    def failed_conditions(self, items: list[Any]) -> list[int]:
        """One transaction, tried again when another one conflicted with it; the positions of the items
        whose condition failed when DynamoDB cancelled it for that, none when it was written."""
        for attempt in range(TRANSACT_ATTEMPTS):
            try:
                self.dynamodb.transact_write_items(TransactItems=items)
                return []
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                failed = [i for i, code in enumerate(reasons) if code == "ConditionalCheckFailed"]
                if failed:
                    return failed
                # Another write to the same item just then (two changes of one tenant): try again.
                if "TransactionConflict" not in reasons or attempt == TRANSACT_ATTEMPTS - 1:
                    raise
        raise AssertionError("not reached: the last attempt returns or raises")

    def transact_holding_lock(self, items: list[Any]) -> None:
        """One transaction under our change lock; ChangeInProgress when DynamoDB cancels it (the lock
        is no longer ours, or another write to the item got in the way)."""
        try:
            self.dynamodb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise ChangeInProgress() from None
            raise


def _back_off(retries: int) -> int:
    # DynamoDB hands back what it had no capacity for: retry it after a short, growing pause.
    retries += 1
    if retries > BATCH_RETRIES:
        raise RuntimeError("DynamoDB kept returning unprocessed items")
    time.sleep(0.05 * 2**retries)
    return retries
