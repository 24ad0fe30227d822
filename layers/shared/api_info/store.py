"""The credential store: the only code that touches DynamoDB and Secrets Manager.

DynamoDB holds, per tenant, one partition `TENANT#<installationId>` with the tenant item and one
item per credential (metadata and masked value only), and a partition `HISTORY#<installationId>`
with the audit trail. Each secret lives in Secrets Manager under `<prefix><tenant hash>/<credential>`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import SecretStr

from api_info.errors import ChangeInProgress, RateLimited, ValidationFailed
from api_info.models import CredentialName, CredentialRecord, HistoryEvent, LastCheck, StoredStatus, Tenant
from api_info.observability import logger
from api_info.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestOutputTypeDef, WriteRequestTypeDef
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

SECRET_CACHE_SECONDS = 300
DELETION_RECOVERY_DAYS = 7


def _to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items() if v is not None}


def _from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def history_pk(tenant_id: str) -> str:
    return f"HISTORY#{tenant_id}"


def cred_sk(credential: CredentialName) -> str:
    return f"CRED#{credential}"


def idempotency_pk(tenant_id: str) -> str:
    return f"IDEMPOTENCY#{tenant_id}"


def limit_pk(tenant_id: str) -> str:
    # Counters live in a partition of their own, so that GET /api-info's Query never reads them.
    return f"LIMIT#{tenant_id}"


@dataclass(frozen=True)
class PendingEvent:
    """A history event written later in a batch, keeping the time it happened for its sort key."""

    tenant_id: str
    event: HistoryEvent
    at_ns: int = field(default_factory=time.time_ns)


@dataclass
class TenantState:
    """A tenant's item and its credentials' records, as one Query returns them."""

    tenant: Tenant | None = None
    credentials: dict[str, CredentialRecord] = field(default_factory=dict)
    # Per credential, the status the app was last told about by a "Credential status changed" event.
    notified: dict[str, str] = field(default_factory=dict)


class CredentialStore:
    """Reads and writes tenants, credential metadata, history and secrets."""

    def __init__(
        self,
        settings: Settings,
        dynamodb: Callable[[], DynamoDBClient],
        secrets: Callable[[], SecretsManagerClient],
    ) -> None:
        # Client factories, not clients: a route that never reads a secret never creates that client.
        self._settings = settings
        self._table = settings.table_name
        self._dynamodb = dynamodb
        self._secrets = secrets

    @property
    def dynamodb(self) -> DynamoDBClient:
        return self._dynamodb()

    @property
    def secrets(self) -> SecretsManagerClient:
        return self._secrets()

    # --- tenants and metadata -------------------------------------------------------------------

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
            item = _from_item(raw)
            if item["SK"] == "TENANT":
                state.tenant = Tenant.model_validate(item)
                state.notified = _notified(item)
            elif item["SK"].startswith("CRED#") and "status" in item:
                state.credentials[item["SK"].removeprefix("CRED#")] = CredentialRecord.model_validate(item)
        return state

    def tenant(self, tenant_id: str) -> Tenant | None:
        """The recorded tenant, or None when this installation was never seen."""
        answer = self.dynamodb.get_item(
            TableName=self._table,
            Key=_to_item({"PK": tenant_pk(tenant_id), "SK": "TENANT"}),
            ConsistentRead=True,
        )
        item = answer.get("Item")
        return Tenant.model_validate(_from_item(item)) if item else None

    def record_tenant(self, tenant: Tenant, now: str) -> None:
        """Record an installation the first time it is seen; later sightings take a new site URL or
        cloud id (a renamed site), and change nothing else."""
        sets, values = _tenant_sets(tenant, now)
        self.dynamodb.update_item(
            TableName=self._table,
            Key=_to_item({"PK": tenant_pk(tenant.installation_id), "SK": "TENANT"}),
            UpdateExpression="SET " + ", ".join(sets),
            ExpressionAttributeValues=_to_item(values),
        )

    def record_change_attempt(self, tenant: Tenant, now: str, *, limit: int, window_seconds: int) -> None:
        """Record the tenant (as `record_tenant`) and count one change attempt, in one call; RateLimited
        when the tenant's current fixed window already holds `limit` attempts.

        One TransactWriteItems of two updates: the tenant item, and a counter item per window (its key
        names the window, so a new window starts at zero without a read; TTL removes old ones).
        """
        epoch = int(time.time())
        start = epoch - epoch % window_seconds
        end = start + window_seconds
        sets, values = _tenant_sets(tenant, now)
        items: list[Any] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _to_item({"PK": tenant_pk(tenant.installation_id), "SK": "TENANT"}),
                    "UpdateExpression": "SET " + ", ".join(sets),
                    "ExpressionAttributeValues": _to_item(values),
                }
            },
            {
                "Update": {
                    "TableName": self._table,
                    "Key": _to_item({"PK": limit_pk(tenant.installation_id), "SK": f"changes#{start}"}),
                    "UpdateExpression": "ADD attempts :one SET #ttl = :ttl",
                    "ConditionExpression": "attribute_not_exists(attempts) OR attempts < :limit",
                    "ExpressionAttributeNames": {"#ttl": "ttl"},
                    "ExpressionAttributeValues": _to_item({":one": 1, ":limit": limit, ":ttl": end + 3600}),
                }
            },
        ]
        for attempt in range(3):
            try:
                self.dynamodb.transact_write_items(TransactItems=items)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                    raise RateLimited(
                        "This site has tried to save a key or token too often in a short time. "
                        "Wait a minute and try again.",
                        retry_after=max(1, end - epoch),
                    ) from None
                # Two changes of one tenant in the same instant collide on the counter: try again.
                if "TransactionConflict" not in reasons or attempt == 2:
                    raise

    # --- the change protocol --------------------------------------------------------------------

    def acquire_lock(
        self, tenant_id: str, credential: CredentialName, change_id: str
    ) -> CredentialRecord | None:
        """Take the credential's change lock (or re-take our own) and return its current record."""
        now = int(time.time())
        try:
            answer = self.dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
                UpdateExpression="SET lockId = :me, lockUntil = :until",
                ConditionExpression="attribute_not_exists(lockId) OR lockUntil < :now OR lockId = :me",
                ExpressionAttributeValues=_to_item(
                    {":me": change_id, ":until": now + self._settings.change_lock_seconds, ":now": now}
                ),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ChangeInProgress() from None
            raise
        old = _from_item(answer.get("Attributes", {}))
        return CredentialRecord.model_validate(old) if "status" in old else None

    def release_lock(self, tenant_id: str, credential: CredentialName, change_id: str) -> None:
        """Give the lock back if we still hold it; best effort, the lock also expires on its own."""
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
                UpdateExpression="REMOVE lockId, lockUntil",
                ConditionExpression="lockId = :me",
                ExpressionAttributeValues=_to_item({":me": change_id}),
            )
        except ClientError as exc:
            logger.warning("Could not release a change lock", extra={"error": exc.response["Error"]["Code"]})

    def stage_secret(
        self,
        tenant_id: str,
        credential: CredentialName,
        secret: dict[str, str],
        change_id: str,
        *,
        first: bool,
    ) -> str:
        """Store a validated secret as a new version; re-running with the same id is a no-op.

        A replacement (`first` false) is staged as AWSPENDING and promoted after the commit. A first
        save (no credential is recorded, so no version is in use) goes straight to AWSCURRENT: in one
        CreateSecret for a new secret, else (a secret left by an earlier delete, uninstall or
        interrupted first save) after bringing it back. At most three calls either way.
        """
        name = self.secret_name(tenant_id, credential)
        value = json.dumps(secret)
        if first:
            if self._create_secret(name, tenant_id, credential, value, change_id):
                return change_id  # a secret's first version is AWSCURRENT; its id is the request token
            self._restore_secret(name)
            stages: dict[str, Any] = {}  # PutSecretValue's default: AWSCURRENT moves to the new version
        else:
            stages = {"VersionStages": ["AWSPENDING"]}
        answer = self.secrets.put_secret_value(
            SecretId=name, SecretString=value, ClientRequestToken=change_id, **stages
        )
        return answer["VersionId"]

    def commit(
        self,
        tenant_id: str,
        credential: CredentialName,
        record: CredentialRecord,
        change_id: str,
        event: HistoryEvent,
    ) -> None:
        """Make the staged version the one the app uses, and record it, in one transaction."""
        item = {
            "PK": tenant_pk(tenant_id),
            "SK": cred_sk(credential),
            **record.model_dump(by_alias=True, exclude_none=True),
        }
        self._transact_holding_lock(
            [
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": _to_item(item),
                        "ConditionExpression": "lockId = :me",
                        "ExpressionAttributeValues": _to_item({":me": change_id}),
                    }
                },
                {"Put": {"TableName": self._table, "Item": self._event_item(tenant_id, event)}},
            ]
        )

    def committed(self, tenant_id: str, credential: CredentialName, version_id: str) -> bool:
        """Whether the record names this version: settles a commit whose outcome is unknown."""
        record = self.load_credential(tenant_id, credential)
        return record is not None and record.secret_version_id == version_id

    def finish_failed(
        self, tenant_id: str, credential: CredentialName, change_id: str, event: HistoryEvent
    ) -> None:
        """Record a change that did not happen and give the lock back, leaving the credential as it was."""
        self._transact_holding_lock(
            [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": _to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
                        "UpdateExpression": "REMOVE lockId, lockUntil",
                        "ConditionExpression": "lockId = :me",
                        "ExpressionAttributeValues": _to_item({":me": change_id}),
                    }
                },
                {"Put": {"TableName": self._table, "Item": self._event_item(tenant_id, event)}},
            ]
        )

    def add_event_if_installed(self, tenant_id: str, event: HistoryEvent) -> bool:
        """Append an event unless the tenant was uninstalled meanwhile (False then: nothing written).

        For an attempt refused without holding the credential's lock. The tenant item is the
        condition: an uninstall deletes it before it reads the history partition to delete, so an
        event written while the tenant item stands is deleted with the rest, and none comes after.
        """
        items: list[Any] = [
            {
                "ConditionCheck": {
                    "TableName": self._table,
                    "Key": _to_item({"PK": tenant_pk(tenant_id), "SK": "TENANT"}),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {"Put": {"TableName": self._table, "Item": self._event_item(tenant_id, event)}},
        ]
        for attempt in range(3):
            try:
                self.dynamodb.transact_write_items(TransactItems=items)
                return True
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "TransactionCanceledException":
                    raise
                reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if reasons and reasons[0] == "ConditionalCheckFailed":
                    return False
                # Another change counting its attempt on the tenant item just then: try again.
                if "TransactionConflict" not in reasons or attempt == 2:
                    raise
        return False  # not reached: the last attempt returns or raises

    def _transact_holding_lock(self, items: list[Any]) -> None:
        """One transaction under our change lock; ChangeInProgress when DynamoDB cancels it (the lock
        is no longer ours, or another write to the item got in the way)."""
        try:
            self.dynamodb.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                raise ChangeInProgress() from None
            raise

    def promote_secret(
        self, tenant_id: str, credential: CredentialName, version_id: str, previous_version_id: str | None
    ) -> None:
        """Move AWSCURRENT to the committed version (AWSPREVIOUS then keeps the old one)."""
        name = self.secret_name(tenant_id, credential)
        current = previous_version_id
        if current == version_id:  # a retry of a change whose promote was interrupted
            current = self._current_version(name)
        for _ in range(2):
            if current == version_id:
                return  # already current: a first version is made AWSCURRENT by Secrets Manager itself
            kwargs: dict[str, Any] = {
                "SecretId": name,
                "VersionStage": "AWSCURRENT",
                "MoveToVersionId": version_id,
            }
            if current:
                kwargs["RemoveFromVersionId"] = current
            try:
                self.secrets.update_secret_version_stage(**kwargs)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "InvalidParameterException":
                    raise
                # Our record of the current version was stale (an earlier promote was interrupted).
                current = self._current_version(name)
        raise RuntimeError("could not promote the secret version")

    def delete_credential(
        self, tenant_id: str, credential: CredentialName, change_id: str, event: HistoryEvent | None
    ) -> None:
        """Remove a credential's record (under our lock) with an event; schedule the secret's deletion."""
        items: list[Any] = [
            {
                "Delete": {
                    "TableName": self._table,
                    "Key": _to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
                    "ConditionExpression": "lockId = :me",
                    "ExpressionAttributeValues": _to_item({":me": change_id}),
                }
            }
        ]
        if event is not None:
            items.append({"Put": {"TableName": self._table, "Item": self._event_item(tenant_id, event)}})
        self._transact_holding_lock(items)
        self.schedule_secret_deletion(tenant_id, credential)

    def holds(self, tenant_id: str, credential: CredentialName) -> bool:
        """Whether anything is held for the credential (its record, or a change's lock), read consistently."""
        answer = self.dynamodb.get_item(
            TableName=self._table,
            Key=_to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
            ConsistentRead=True,
            ProjectionExpression="PK",
        )
        return "Item" in answer

    def schedule_secret_deletion(self, tenant_id: str, credential: CredentialName) -> None:
        """Schedule the credential's secret for deletion (a no-op if there is none)."""
        self._schedule_secret_deletion(self.secret_name(tenant_id, credential))

    def delete_tenant(self, tenant_id: str) -> int:
        """Delete every item held for a tenant and schedule its secrets' deletion; returns items removed."""
        removed = 0
        for pk in (
            tenant_pk(tenant_id),
            history_pk(tenant_id),
            limit_pk(tenant_id),
            idempotency_pk(tenant_id),
        ):
            keys = self._partition_keys(pk)
            for start in range(0, len(keys), 25):
                batch = [{"DeleteRequest": {"Key": key}} for key in keys[start : start + 25]]
                pending: dict[str, Any] = {self._table: batch}
                while pending:
                    answer = self.dynamodb.batch_write_item(RequestItems=pending)
                    pending = answer.get("UnprocessedItems") or {}
            removed += len(keys)
        for credential in ("apiKey", "apiToken"):
            self.schedule_secret_deletion(tenant_id, credential)
        return removed

    def load_credential(self, tenant_id: str, credential: CredentialName) -> CredentialRecord | None:
        """One credential's record, read consistently."""
        answer = self.dynamodb.get_item(
            TableName=self._table,
            Key=_to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
            ConsistentRead=True,
        )
        item = _from_item(answer.get("Item", {}))
        return CredentialRecord.model_validate(item) if "status" in item else None

    def fingerprint_key(self) -> bytes:
        """The key of the HMAC that fingerprints request bodies (never a plain hash of a secret)."""
        arn = self._settings.fingerprint_secret_arn
        if not arn:
            raise RuntimeError("FINGERPRINT_SECRET_ARN is not set")
        value = _secrets_provider(self.secrets).get(arn, max_age=SECRET_CACHE_SECONDS)
        return str(value).encode()

    # --- history --------------------------------------------------------------------------------

    def history(
        self, tenant_id: str, limit: int, cursor: str | None
    ) -> tuple[list[HistoryEvent], str | None]:
        """A page of the tenant's audit trail, newest first, and the cursor of the next page."""
        kwargs: dict[str, Any] = {}
        if cursor:
            kwargs["ExclusiveStartKey"] = _to_item(
                {"PK": history_pk(tenant_id), "SK": _decode_cursor(cursor)}
            )
        answer = self.dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": history_pk(tenant_id)}},
            ScanIndexForward=False,
            Limit=limit,
            **kwargs,
        )
        events = [HistoryEvent.model_validate(_from_item(item)) for item in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        next_cursor = _encode_cursor(str(_from_item(last)["SK"])) if last else None
        return events, next_cursor

    def add_event(self, tenant_id: str, event: HistoryEvent) -> None:
        """Append one event to the tenant's audit trail."""
        self.dynamodb.put_item(TableName=self._table, Item=self._event_item(tenant_id, event))

    def add_events(self, pending: Sequence[PendingEvent]) -> None:
        """Append many events to their tenants' audit trails, 25 to a BatchWriteItem call."""
        items: list[WriteRequestTypeDef | WriteRequestOutputTypeDef] = [
            {"PutRequest": {"Item": self._event_item(p.tenant_id, p.event, p.at_ns)}} for p in pending
        ]
        self._batch_write(items)

    def _event_item(self, tenant_id: str, event: HistoryEvent, at_ns: int | None = None) -> dict[str, Any]:
        ttl = int(time.time()) + self._settings.history_retention_days * 86400
        values = {
            "PK": history_pk(tenant_id),
            "SK": f"{at_ns or time.time_ns():020d}#{uuid.uuid4().hex[:8]}",  # sorts by time, newest last
            "ttl": ttl,
            **event.model_dump(by_alias=True, exclude_none=True),
        }
        return _to_item(values)

    # --- credential checks ----------------------------------------------------------------------

    def tenant_id_pages(self, page_size: int) -> Iterator[list[str]]:
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
        pending: list[dict[str, Any]] = [
            _to_item({"PK": tenant_pk(tenant_id), "SK": sk})
            for tenant_id in states
            for sk in ("TENANT", cred_sk("apiKey"), cred_sk("apiToken"))
        ]
        retries = 0
        while pending:
            chunk, pending = pending[:100], pending[100:]
            answer = self.dynamodb.batch_get_item(
                RequestItems={
                    self._table: {
                        "Keys": chunk,
                        "ConsistentRead": True,
                        "ProjectionExpression": CHECK_PROJECTION,
                        "ExpressionAttributeNames": {"#status": "status"},
                    }
                }
            )
            for raw in answer.get("Responses", {}).get(self._table, []):
                item = _from_item(raw)
                _add_to_state(states[item["PK"].removeprefix("TENANT#")], item)
            left = answer.get("UnprocessedKeys", {}).get(self._table)
            unprocessed: list[dict[str, Any]] = list(left["Keys"]) if left else []
            if unprocessed:
                # DynamoDB hands back keys it had no capacity for: retry them after a short backoff.
                retries += 1
                if retries > 5:
                    raise RuntimeError("DynamoDB kept returning unprocessed keys")
                time.sleep(0.05 * 2**retries)
                pending = unprocessed + pending
        return states

    def read_secret(
        self, tenant_id: str, credential: CredentialName, version_id: str
    ) -> dict[str, SecretStr]:
        """The secret version the app uses, read by its VersionId (not whatever is AWSCURRENT)."""
        answer = self.secrets.get_secret_value(
            SecretId=self.secret_name(tenant_id, credential), VersionId=version_id
        )
        return _secret_fields(answer["SecretString"])

    def read_secrets(
        self, wanted: Mapping[tuple[str, CredentialName], str]
    ) -> dict[tuple[str, CredentialName], dict[str, SecretStr]]:
        """The secret versions the app uses, 20 per BatchGetSecretValue call.

        That call reads AWSCURRENT, so a secret whose current version is not the recorded one (a
        promotion still pending, or a change under way) is left out: read it with `read_secret`.
        """
        names = {self.secret_name(*key): key for key in wanted}
        found: dict[tuple[str, CredentialName], dict[str, SecretStr]] = {}
        batch = list(names)
        for start in range(0, len(batch), 20):
            answer = self.secrets.batch_get_secret_value(SecretIdList=batch[start : start + 20])
            for value in answer.get("SecretValues", []):
                key = names.get(value.get("Name", ""))
                if key and value.get("VersionId") == wanted[key] and "SecretString" in value:
                    found[key] = _secret_fields(value["SecretString"])
        return found

    def record_check(
        self,
        tenant_id: str,
        credential: CredentialName,
        version_id: str,
        *,
        last_check: LastCheck,
        status: StoredStatus | None,
    ) -> bool:
        """Write a check's result unless the credential was changed meanwhile (then the change wins)."""
        values: dict[str, Any] = {
            ":check": last_check.model_dump(exclude_none=True),
            ":version": version_id,
        }
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": _to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
            "UpdateExpression": "SET lastCheck = :check",
            "ConditionExpression": "secretVersionId = :version",
        }
        if status is not None:  # None: the status stays as it is (unchanged, or Atlassian could not answer)
            kwargs["UpdateExpression"] += ", #status = :status"
            kwargs["ExpressionAttributeNames"] = {"#status": "status"}
            values[":status"] = status
        kwargs["ExpressionAttributeValues"] = _to_item(values)
        try:
            self.dynamodb.update_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def mark_notified(self, tenant_id: str, credential: CredentialName, status: str) -> None:
        """Remember, on the tenant item, the status the app was last told about."""
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"PK": tenant_pk(tenant_id), "SK": "TENANT"}),
                UpdateExpression="SET #notified = :status",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeNames={"#notified": _notified_attribute(credential)},
                ExpressionAttributeValues=_to_item({":status": status}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # The tenant was removed meanwhile: nothing left to remember.

    def reserve_check(self, tenant_id: str, interval_seconds: int) -> None:
        """Note an on-demand check of the tenant, or raise RateLimited if the last one is too recent."""
        now = int(time.time())
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=_to_item({"PK": tenant_pk(tenant_id), "SK": "TENANT"}),
                UpdateExpression="SET lastCheckRequestedAt = :now",
                ConditionExpression=(
                    "attribute_exists(PK) AND "
                    "(attribute_not_exists(lastCheckRequestedAt) OR lastCheckRequestedAt <= :since)"
                ),
                ExpressionAttributeValues=_to_item({":now": now, ":since": now - interval_seconds}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            old: dict[str, Any] = exc.response.get("Item", {})  # type: ignore[assignment]
            last = _from_item(old).get("lastCheckRequestedAt", now)
            raise RateLimited(
                f"The credentials of this site were checked less than {interval_seconds} seconds ago. "
                "Wait a moment and check again.",
                retry_after=max(1, int(last) + interval_seconds - now),
            ) from None

    def _batch_write(self, requests: list[WriteRequestTypeDef | WriteRequestOutputTypeDef]) -> None:
        retries = 0
        while requests:
            chunk, requests = requests[:25], requests[25:]
            answer = self.dynamodb.batch_write_item(RequestItems={self._table: chunk})
            unprocessed = list(answer.get("UnprocessedItems", {}).get(self._table, []))
            if unprocessed:
                # DynamoDB hands back writes it had no capacity for: retry them after a short backoff.
                retries += 1
                if retries > 5:
                    raise RuntimeError("DynamoDB kept returning unprocessed items")
                time.sleep(0.05 * 2**retries)
                requests = [*unprocessed, *requests]

    # --- secrets plumbing -----------------------------------------------------------------------

    def secret_name(self, tenant_id: str, credential: CredentialName) -> str:
        """One secret per tenant and credential, named from a hash of the installation id."""
        digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:40]
        return f"{self._settings.secret_prefix}{digest}/{credential}"

    def _create_secret(
        self, name: str, tenant_id: str, credential: CredentialName, value: str, change_id: str
    ) -> bool:
        """Create the secret holding its first version; False when a secret of that name exists."""
        kwargs: dict[str, Any] = {
            "Name": name,
            "Description": f"Flexible User License {credential} of one installation",
            "SecretString": value,
            "ClientRequestToken": change_id,
            "Tags": [
                {"Key": "installationId", "Value": tenant_id[:256]},
                {"Key": "credential", "Value": credential},
            ],
        }
        if self._settings.kms_key_arn:
            kwargs["KmsKeyId"] = self._settings.kms_key_arn
        try:
            self.secrets.create_secret(**kwargs)
            return True
        except ClientError as exc:
            # It exists (InvalidRequestException: scheduled for deletion). Creating it again with the
            # same token and value, as a retry of this change does, succeeds instead.
            if exc.response["Error"]["Code"] in ("ResourceExistsException", "InvalidRequestException"):
                return False
            raise

    def _restore_secret(self, name: str) -> None:
        try:
            self.secrets.restore_secret(SecretId=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "InvalidRequestException":
                raise  # InvalidRequestException: it is not scheduled for deletion, nothing to restore

    def _current_version(self, name: str) -> str | None:
        versions = self.secrets.describe_secret(SecretId=name).get("VersionIdsToStages", {})
        return next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)

    def _schedule_secret_deletion(self, name: str) -> None:
        try:
            self.secrets.delete_secret(SecretId=name, RecoveryWindowInDays=DELETION_RECOVERY_DAYS)
        except ClientError as exc:
            # Never created, or already scheduled for deletion: nothing more to do.
            if exc.response["Error"]["Code"] not in ("ResourceNotFoundException", "InvalidRequestException"):
                raise

    def _partition_keys(self, pk: str) -> list[dict[str, Any]]:
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


@cache
def _secrets_provider(client: SecretsManagerClient) -> SecretsProvider:
    # Imported here: the parameters package loads every provider (SSM, AppConfig, DynamoDB) on import.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client)


def _tenant_sets(tenant: Tenant, now: str) -> tuple[list[str], dict[str, Any]]:
    """The SET clauses that record a tenant: first sight once; the site as the latest token names it."""
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
    return sets, values


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


# What a check reads of a tenant item and its credential items (not the organization, account, locks...).
CHECK_PROJECTION = (
    "PK, SK, installationId, cloudId, siteUrl, apiKeyNotifiedStatus, apiTokenNotifiedStatus, "
    "#status, maskedValue, secretVersionId, expiresOn, lastUpdatedAt, createdBy"
)


def _secret_fields(secret_string: str) -> dict[str, SecretStr]:
    values = json.loads(secret_string)
    return {name: SecretStr(value) for name, value in values.items() if isinstance(value, str)}


def _notified_attribute(credential: CredentialName) -> str:
    return f"{credential}NotifiedStatus"


def _notified(tenant_item: dict[str, Any]) -> dict[str, str]:
    names: tuple[CredentialName, ...] = ("apiKey", "apiToken")
    return {
        name: str(tenant_item[_notified_attribute(name)])
        for name in names
        if _notified_attribute(name) in tenant_item
    }


def _add_to_state(state: TenantState, item: dict[str, Any]) -> None:
    if item["SK"] == "TENANT":
        state.tenant = Tenant.model_validate(item)
        state.notified = _notified(item)
    elif item["SK"].startswith("CRED#") and "status" in item:
        state.credentials[item["SK"].removeprefix("CRED#")] = CredentialRecord.model_validate(item)
