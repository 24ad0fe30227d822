"""The audit trail (DynamoDB): one partition `HISTORY#<installationId>` per tenant, newest last."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api_info.errors import ValidationFailed
from api_info.models import HistoryEvent
from api_info.store.dynamo import TENANT_SK, Table, from_item, history_pk, tenant_pk, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef


@dataclass(frozen=True)
class PendingEvent:
    """A history event written later in a batch, keeping the time it happened for its sort key."""

    tenant_id: str
    event: HistoryEvent
    at_ns: int = field(default_factory=time.time_ns)


def event_item(
    tenant_id: str, event: HistoryEvent, retention_days: int, at_ns: int | None = None
) -> dict[str, Any]:
    """The item of one event, removed by the table's TTL after `retention_days`."""
    values = {
        "PK": history_pk(tenant_id),
        "SK": f"{at_ns or time.time_ns():020d}#{uuid.uuid4().hex[:8]}",  # sorts by time, newest last
        "ttl": int(time.time()) + retention_days * 86400,
        **event.model_dump(by_alias=True, exclude_none=True),
    }
    return to_item(values)


class History(Table):
    """Reads and appends the tenants' audit trails."""

    def _event_item(self, tenant_id: str, event: HistoryEvent, at_ns: int | None = None) -> dict[str, Any]:
        return event_item(tenant_id, event, self._settings.history_retention_days, at_ns)

    def page(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[HistoryEvent], str | None]:
        """A page of the tenant's audit trail, newest first, and the cursor of the next page."""
        kwargs: dict[str, Any] = {}
        if cursor:
            kwargs["ExclusiveStartKey"] = to_item({"PK": history_pk(tenant_id), "SK": _decode_cursor(cursor)})
        answer = self.dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": history_pk(tenant_id)}},
            ScanIndexForward=False,
            Limit=limit,
            **kwargs,
        )
        events = [HistoryEvent.model_validate(from_item(item)) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        next_cursor = _encode_cursor(str(from_item(last)["SK"])) if last else None
        return events, next_cursor

    def add_events(self, pending: Sequence[PendingEvent]) -> None:
        """Append many events to their tenants' audit trails, 25 to a BatchWriteItem call."""
        items: list[WriteRequestTypeDef | WriteRequestOutputTypeDef] = [
            {"PutRequest": {"Item": self._event_item(p.tenant_id, p.event, p.at_ns)}} for p in pending
        ]
        self.batch_write(items)

    def add_event_if_installed(self, tenant_id: str, event: HistoryEvent) -> bool:
        """Append an event unless the tenant was uninstalled meanwhile (False then: nothing written).

        For an attempt refused without holding the credential's lock. The tenant item is the
        condition: an uninstall deletes it before it reads the history partition to delete, so an
        event written while the tenant item stands is deleted with the rest, and none comes after.
        """
        return self.transact(
            [
                {
                    "ConditionCheck": {
                        "TableName": self._table,
                        "Key": to_item({"PK": tenant_pk(tenant_id), "SK": TENANT_SK}),
                        "ConditionExpression": "attribute_exists(PK)",
                    }
                },
                {"Put": {"TableName": self._table, "Item": self._event_item(tenant_id, event)}},
            ]
        )


def _encode_cursor(sort_key: str) -> str:
    # Only the sort key travels: the partition always comes from the caller's own tenant.
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        sort_key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        sort_key = ""
    if not sort_key[:20].isdigit() or len(sort_key) > 64:
        raise ValidationFailed(
            "The cursor is not valid. Start again from the first page.",
            details=[{"field": "cursor", "message": "Use the nextCursor of a previous answer."}],
        )
    return sort_key
