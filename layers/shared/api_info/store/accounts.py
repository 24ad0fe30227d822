"""The record of the Atlassian accounts a tenant's history holds (DynamoDB), kept up on every write that
adds an account id, so that the personal data cycle learns them without reading the history.

One item per account, `ACCOUNTS#<installationId>` / `<accountId>`, with the time its data was last
written (`writtenAt`) and a TTL as long as the history's: the record of an account lasts as long as the
events that hold it. The credential items' accounts are read from the items themselves.
"""

from __future__ import annotations

import time
from typing import Any

from api_info.records import CLOSED_ACCOUNT
from api_info.store.dynamo import accounts_pk, to_item


def account_ids(*holders: Any) -> set[str]:
    """The Atlassian account ids of actors and accounts (models or plain dicts); operators, Forge, the
    scheduler and the closed-account placeholder hold none."""
    ids: set[str] = set()
    for holder in holders:
        if holder is None:
            continue
        values = holder if isinstance(holder, dict) else holder.to_item()
        if values.get("type", "atlassian") != "atlassian":
            continue
        account_id = values.get("accountId")
        if isinstance(account_id, str) and account_id and account_id != CLOSED_ACCOUNT:
            ids.add(account_id)
    return ids


def held_account_writes(
    table: str, tenant_id: str, at: str, retention_days: int, *holders: Any
) -> list[dict[str, Any]]:
    """The transaction items that note the accounts of `holders` as written at `at` (one per account:
    a transaction may touch an item once)."""
    expires = int(time.time()) + retention_days * 86400
    return [
        {
            "Update": {
                "TableName": table,
                "Key": to_item({"PK": accounts_pk(tenant_id), "SK": account_id}),
                "UpdateExpression": "SET writtenAt = :at, #ttl = :ttl",
                "ExpressionAttributeNames": {"#ttl": "ttl"},
                "ExpressionAttributeValues": to_item({":at": at, ":ttl": expires}),
            }
        }
        for account_id in sorted(account_ids(*holders))
    ]
