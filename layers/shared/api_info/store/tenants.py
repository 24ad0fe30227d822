"""Tenants (DynamoDB): tenant items, rate limits, check reservations and results, reads for the checks.

A tenant is one installation of the app, recorded in its own partition `TENANT#<installationId>`
with its credentials' records; `delete` removes every partition held for it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from api_info.credentials import CredentialKind, kind_named, kinds
from api_info.credentials.ref import CRED_PREFIX, CredentialRef
from api_info.errors import RateLimited
from api_info.records import CredentialRecord, LastCheck, StoredStatus, Tenant
from api_info.store.dynamo import (
    TENANT_SK,
    Table,
    from_item,
    limit_pk,
    tenant_partitions,
    tenant_pk,
    to_item,
)

# What a check reads of a tenant item and its credential items (not the email, account, locks...); the
# key's organization is what the token's expiry lookup lists; lastCheck is what an erased token's
# announcement carries (a token erased with its closed owner is not checked, see checks.announce_erasure).
# Each kind's notified status is added from the registry (`_check_projection`).
CHECK_PROJECTION = (
    "PK, SK, installationId, cloudId, siteUrl, "
    "#status, maskedValue, secretVersionId, expiresOn, expiresOnSource, lastUpdatedAt, createdBy, "
    "organization, reminder, lastCheck, secretName, retiredSecrets"
)


@dataclass
class TenantState:
    """A tenant's item and its credentials' records, as one Query returns them."""

    tenant: Tenant | None = None
    credentials: dict[CredentialKind, CredentialRecord] = field(default_factory=dict)
    # Per kind, the status the app was last told about by a "Credential status changed" event.
    notified: dict[CredentialKind, str] = field(default_factory=dict)

    def add(self, item: dict[str, Any]) -> None:
        """Take in one item of the tenant's partition (deserialised)."""
        if item["SK"] == TENANT_SK:
            self.tenant = Tenant.from_item(item)
            self.notified = _notified(item)
        elif item["SK"].startswith(CRED_PREFIX) and "status" in item:
            kind = kind_named(item["SK"].removeprefix(CRED_PREFIX))
            self.credentials[kind] = CredentialRecord.from_item(item)


class Tenants(Table):
    """Reads and writes tenants, their rate limits and their checks' results."""

    def load(self, tenant_id: str) -> TenantState:
        """The tenant and its credential records, in one Query."""
        answer = self.dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": tenant_pk(tenant_id)}},
            ConsistentRead=True,
        )
        state = TenantState()
        for raw in answer.get("Items", []):
            state.add(from_item(raw))
        return state

    def tenant(self, tenant_id: str) -> Tenant | None:
        """The recorded tenant, or None when this installation was never seen."""
        answer = self.dynamodb.get_item(
            TableName=self._table, Key=self._tenant_key(tenant_id), ConsistentRead=True
        )
        item = answer.get("Item")
        return Tenant.from_item(from_item(item)) if item else None

    def record(self, tenant: Tenant, now: str) -> None:
        """Record an installation the first time it is seen; later sightings take a new site URL or
        cloud id (a renamed site), and change nothing else."""
        self.dynamodb.update_item(**self._record(tenant, now))

    def record_change_attempt(self, tenant: Tenant, now: str, *, limit: int, window_seconds: int) -> None:
        """Record the tenant (as `record`) and count one change attempt, in one call; RateLimited
        when the tenant's current fixed window already holds `limit` attempts.

        One TransactWriteItems of two updates: the tenant item, and a counter item per window (its key
        names the window, so a new window starts at zero without a read; TTL removes old ones).
        """
        epoch = int(time.time())
        start = epoch - epoch % window_seconds
        end = start + window_seconds
        count = {
            "TableName": self._table,
            "Key": to_item({"PK": limit_pk(tenant.installation_id), "SK": f"changes#{start}"}),
            "UpdateExpression": "ADD attempts :one SET #ttl = :ttl",
            "ConditionExpression": "attribute_not_exists(attempts) OR attempts < :limit",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": to_item({":one": 1, ":limit": limit, ":ttl": end + 3600}),
        }
        if not self.transact([{"Update": self._record(tenant, now)}, {"Update": count}]):
            raise RateLimited(
                "This site has tried to save a key or token too often in a short time. "
                "Wait a minute and try again.",
                retry_after=max(1, end - epoch),
            )

    def reserve_check(self, tenant_id: str, interval_seconds: int) -> None:
        """Note an on-demand check of the tenant, or raise RateLimited if the last one is too recent."""
        now = int(time.time())
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=self._tenant_key(tenant_id),
                UpdateExpression="SET lastCheckRequestedAt = :now",
                ConditionExpression=(
                    "attribute_exists(PK) AND "
                    "(attribute_not_exists(lastCheckRequestedAt) OR lastCheckRequestedAt <= :since)"
                ),
                ExpressionAttributeValues=to_item({":now": now, ":since": now - interval_seconds}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] = exc.response.get("Item", {})  # type: ignore[assignment]
            last = from_item(old).get("lastCheckRequestedAt", now)
            raise RateLimited(
                f"The credentials of this site were checked less than {interval_seconds} seconds ago. "
                "Wait a moment and check again.",
                retry_after=max(1, int(last) + interval_seconds - now),
            ) from None

    def id_pages(self, page_size: int) -> Iterator[list[str]]:
        """Every tenant's id, a page at a time, from the sparse `tenants` index: one Query per page."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "tenants",
            "KeyConditionExpression": "entity = :tenant",
            "ExpressionAttributeValues": {":tenant": {"S": "tenant"}},
            "Limit": page_size,
        }
        while True:
            answer = self.dynamodb.query(**kwargs)
            ids = [item["PK"]["S"].removeprefix("TENANT#") for item in answer.get("Items", [])]
            if ids:
                yield ids
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def load_for_checks(self, tenant_ids: Sequence[str]) -> dict[str, TenantState]:
        """Several tenants and their credentials, 100 items per BatchGetItem, with only what a check reads."""
        states = {tenant_id: TenantState() for tenant_id in tenant_ids}
        keys = [
            to_item(key)
            for tenant_id in states
            for key in (
                {"PK": tenant_pk(tenant_id), "SK": TENANT_SK},
                *(CredentialRef(tenant_id, kind).key for kind in kinds()),
            )
        ]
        notified = ", ".join(kind.notified_attribute for kind in kinds())
        for raw in self.batch_get(
            keys,
            ConsistentRead=True,
            ProjectionExpression=f"{CHECK_PROJECTION}, {notified}",
            ExpressionAttributeNames={"#status": "status"},
        ):
            item = from_item(raw)
            states[item["PK"].removeprefix("TENANT#")].add(item)
        return states

    def record_check(
        self,
        ref: CredentialRef,
        version_id: str,
        *,
        last_check: LastCheck,
        status: StoredStatus | None,
        expires_on: str | None = None,
    ) -> bool:
        """Write a check's result unless the credential was changed meanwhile (then the change wins);
        `expires_on`: a date the check learnt from Atlassian."""
        values: dict[str, Any] = {
            ":check": last_check.to_item(),
            ":version": version_id,
        }
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": to_item(ref.key),
            "UpdateExpression": "SET lastCheck = :check",
            "ConditionExpression": "secretVersionId = :version",
        }
        if status is not None:  # None: the status stays as it is (unchanged, or Atlassian could not answer)
            kwargs["UpdateExpression"] += ", #status = :status"
            kwargs["ExpressionAttributeNames"] = {"#status": "status"}
            values[":status"] = status
        if expires_on is not None:
            kwargs["UpdateExpression"] += ", expiresOn = :expires, expiresOnSource = :atlassian"
            values |= {":expires": expires_on, ":atlassian": "atlassian"}
        kwargs["ExpressionAttributeValues"] = to_item(values)
        try:
            self.dynamodb.update_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_notified(self, ref: CredentialRef, status: str) -> None:
        """Remember, on the tenant item, the status the app was last told about."""
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=self._tenant_key(ref.tenant_id),
                UpdateExpression="SET #notified = :status",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#notified": ref.kind.notified_attribute},
                ExpressionAttributeValues=to_item({":status": status}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # The tenant was removed meanwhile: nothing left to remember.

    def delete(self, tenant_id: str) -> int:
        """Delete every item held for a tenant, the tenant item first; returns how many were removed."""
        removed = 0
        for pk in tenant_partitions(tenant_id):
            keys = self.partition_keys(pk)
            self.batch_write([{"DeleteRequest": {"Key": key}} for key in keys])
            removed += len(keys)
        return removed

    def _tenant_key(self, tenant_id: str) -> dict[str, Any]:
        return to_item({"PK": tenant_pk(tenant_id), "SK": TENANT_SK})

    def _record(self, tenant: Tenant, now: str) -> dict[str, Any]:
        """The update that records a tenant: first sight once; the site as the latest token names it."""
        sets = [
            "installationId = if_not_exists(installationId, :iid)",
            "firstSeenAt = if_not_exists(firstSeenAt, :first)",
            "entity = :entity",
        ]
        values: dict[str, Any] = {":iid": tenant.installation_id, ":first": now, ":entity": "tenant"}
        for name, value in (("cloudId", tenant.cloud_id), ("siteUrl", tenant.site_url)):
            if value:  # a token without the claim keeps what is recorded
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = value
        return {
            "TableName": self._table,
            "Key": self._tenant_key(tenant.installation_id),
            "UpdateExpression": "SET " + ", ".join(sets),
            "ExpressionAttributeValues": to_item(values),
        }


def _notified(tenant_item: dict[str, Any]) -> dict[CredentialKind, str]:
    return {
        kind: str(tenant_item[kind.notified_attribute])
        for kind in kinds()
        if kind.notified_attribute in tenant_item
    }
