"""The audit trail (DynamoDB): one partition `HISTORY#<installationId>` per tenant, newest last."""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from api_info.errors import ValidationFailed
from api_info.records import HistoryEvent
from api_info.store.accounts import account_ids, held_account_writes
from api_info.store.dynamo import (
    TENANT_SK,
    TRANSACT_LIMIT,
    Table,
    from_item,
    history_pk,
    tenant_pk,
    to_item,
)


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
        **event.to_item(),
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
        events = [HistoryEvent.from_item(from_item(item)) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        next_cursor = _encode_cursor(str(from_item(last)["SK"])) if last else None
        return events, next_cursor

    def add_events(self, pending: Sequence[PendingEvent]) -> None:
        """Append events to their tenants' audit trails, each tenant's only while it is installed (as
        `add_event_if_installed`), so that a check overtaken by an uninstall leaves no history behind.

        TransactWriteItems of up to 100 actions: per tenant a ConditionCheck of its tenant item, then its
        events. When some tenant is gone, DynamoDB cancels the whole call and says which: the others'
        events are sent again without its.
        """
        for batch in _per_transaction(pending):
            while batch and (gone := self._put_while_installed(batch)):
                batch = {tenant_id: events for tenant_id, events in batch.items() if tenant_id not in gone}

    def _put_while_installed(self, batch: dict[str, list[PendingEvent]]) -> set[str]:
        """One transaction of the tenants' events (with the record of the accounts they hold); the
        tenants found gone (then nothing was written)."""
        actions: list[dict[str, Any]] = []
        owners: list[str] = []  # the tenant of each action
        for tenant_id, events in batch.items():
            tenant_actions = [
                self._installed(tenant_id),
                *({"Put": {"TableName": self._table, "Item": self._item(p)}} for p in events),
                *self._accounts(tenant_id, events[-1].event.at, *(p.event.actor for p in events)),
            ]
            actions += tenant_actions
            owners += [tenant_id] * len(tenant_actions)
        return {owners[i] for i in self.failed_conditions(actions)}

    def _accounts(self, tenant_id: str, at: str, *actors: Any) -> list[dict[str, Any]]:
        retention = self._settings.history_retention_days
        return held_account_writes(self._table, tenant_id, at, retention, *actors)

    def add_event_if_installed(self, tenant_id: str, event: HistoryEvent) -> bool:
        """Append an event unless the tenant was uninstalled meanwhile (False then: nothing written).

        For an attempt refused without holding the credential's lock. The tenant item is the
        condition: an uninstall deletes it before it reads the history partition to delete, so an
        event written while the tenant item stands is deleted with the rest, and none comes after.
        """
        return self.transact(
            [
                self._installed(tenant_id),
                {"Put": {"TableName": self._table, "Item": self._event_item(tenant_id, event)}},
                *self._accounts(tenant_id, event.at, event.actor),
            ]
        )

    def _installed(self, tenant_id: str) -> dict[str, Any]:
        """The condition of a transaction that the tenant item still stands."""
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": to_item({"PK": tenant_pk(tenant_id), "SK": TENANT_SK}),
                "ConditionExpression": "attribute_exists(PK)",
            }
        }

    def _item(self, pending: PendingEvent) -> dict[str, Any]:
        return self._event_item(pending.tenant_id, pending.event, pending.at_ns)


def _per_transaction(pending: Sequence[PendingEvent]) -> Iterator[dict[str, list[PendingEvent]]]:
    """The events by tenant, in groups that fit one transaction: a tenant's condition and its events."""
    batch: dict[str, list[PendingEvent]] = {}
    held: dict[str, set[str]] = {}  # per tenant of the batch, the accounts its events note
    size = 0
    for p in pending:
        new_accounts = account_ids(p.event.actor) - held.get(p.tenant_id, set())
        # A tenant's first event brings its condition; an account not yet noted, its record's update.
        cost = (1 if p.tenant_id in batch else 2) + len(new_accounts)
        if size + cost > TRANSACT_LIMIT:
            yield batch
            batch, held, size = {}, {}, 0
            cost = 2 + len(account_ids(p.event.actor))
        batch.setdefault(p.tenant_id, []).append(p)
        held.setdefault(p.tenant_id, set()).update(account_ids(p.event.actor))
        size += cost
    if batch:
        yield batch


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
