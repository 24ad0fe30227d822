"""Credential records (DynamoDB): the change lock, the commit, a failed change, deletion, reading one,
and the claim of an expiry reminder.

A record holds a credential's metadata and masked value and names the Secrets Manager version in use;
it never holds the secret. A change takes the record's lock, and writes the record and its history
event in one transaction under that lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from api_info.credentials import kind_named
from api_info.credentials.ref import CRED_PREFIX, CredentialRef
from api_info.errors import ChangeInProgress
from api_info.observability import logger
from api_info.records import CredentialRecord, HistoryEvent, Reminder
from api_info.store.accounts import held_account_writes
from api_info.store.dynamo import Table, from_item, tenant_pk, to_item
from api_info.store.history import event_item


@dataclass(frozen=True)
class Locked:
    """What a credential item held when a change or a delete took its lock: its record, and the secrets
    no record uses any more (staged by changes that never committed, or retired and not yet deleted)."""

    record: CredentialRecord | None
    leftovers: frozenset[str] = frozenset()

    @classmethod
    def of(cls, item: dict[str, Any]) -> Locked:
        record = CredentialRecord.from_item(item) if "status" in item else None
        left = set(item.get("stagedSecrets") or ()) | set(item.get("retiredSecrets") or ())
        return cls(record, frozenset(left))


class RecordItems(Table):
    """Reads of the credential items, and the conditional writes that need no lock: secrets forgotten,
    a value moved out of the former fixed secret, an expiry reminder claimed."""

    def load(self, ref: CredentialRef) -> CredentialRecord | None:
        """One credential's record, read consistently."""
        answer = self.dynamodb.get_item(
            TableName=self._table,
            Key=to_item(ref.key),
            ConsistentRead=True,
        )
        item = from_item(answer.get("Item", {}))
        return CredentialRecord.from_item(item) if "status" in item else None

    def holds(self, ref: CredentialRef) -> bool:
        """Whether anything is held for the credential (its record, or a change's lock), read consistently."""
        answer = self.dynamodb.get_item(
            TableName=self._table,
            Key=to_item(ref.key),
            ConsistentRead=True,
            ProjectionExpression="PK",
        )
        return "Item" in answer

    def held(self, tenant_id: str) -> dict[CredentialRef, Locked]:
        """What each of the tenant's credential items holds: its record and leftover secrets (one Query)."""
        answer = self.dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk AND begins_with(SK, :cred)",
            ExpressionAttributeValues=to_item({":pk": tenant_pk(tenant_id), ":cred": CRED_PREFIX}),
            ConsistentRead=True,
        )
        held: dict[CredentialRef, Locked] = {}
        for raw in answer.get("Items", []):
            item = from_item(raw)
            kind = kind_named(str(item["SK"]).removeprefix(CRED_PREFIX))
            held[CredentialRef(tenant_id, kind)] = Locked.of(item)
        return held

    def forget_secrets(self, ref: CredentialRef, names: set[str]) -> None:
        """Drop deleted secrets from the item's retired and staged ones (never recreating the item)."""
        if not names:
            return
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item(ref.key),
                UpdateExpression="DELETE retiredSecrets :names, stagedSecrets :names",
                ConditionExpression="attribute_exists(PK)",
                ExpressionAttributeValues=to_item({":names": set(names)}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def stage_move(self, ref: CredentialRef, record: CredentialRecord, name: str) -> bool:
        """Note the secret a record's value is about to be moved to, out of the former fixed secret; only
        while the record still uses that one and no change holds the lock (then False)."""
        return self._while_unmoved(ref, record, "ADD stagedSecrets :new", {":new": {name}})

    def commit_move(self, ref: CredentialRef, record: CredentialRecord, name: str, former: str) -> bool:
        """Make the record use the secret its value was moved to, the former one retired, under the same
        conditions as `stage_move`."""
        return self._while_unmoved(
            ref,
            record,
            "SET secretName = :name ADD retiredSecrets :former DELETE stagedSecrets :new",
            {":name": name, ":former": {former}, ":new": {name}},
        )

    def _while_unmoved(
        self,
        ref: CredentialRef,
        record: CredentialRecord,
        expression: str,
        values: dict[str, Any],
    ) -> bool:
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item(ref.key),
                UpdateExpression=expression,
                ConditionExpression=(
                    "secretVersionId = :version AND attribute_not_exists(secretName) "
                    "AND (attribute_not_exists(lockId) OR lockUntil < :now)"
                ),
                ExpressionAttributeValues=to_item(
                    {**values, ":version": record.secret_version_id, ":now": int(time.time())}
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False  # changed meanwhile, or a change under way: it moves the value itself
            raise
        return True

    def claim_reminder(
        self, ref: CredentialRef, version_id: str, threshold: int
    ) -> tuple[bool, Reminder | None]:
        """Claim the announcement of `threshold` for this value of the credential: only while it is still
        the value in use and nothing at or below that threshold was announced for it. Whether it was
        claimed, and the reminder state it replaced (for `give_back_reminder`)."""
        names = {"#reminder": "reminder", "#version": "version", "#threshold": "threshold"}
        try:
            answer = self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item(ref.key),
                UpdateExpression="SET #reminder = :claim",
                ConditionExpression=(
                    "secretVersionId = :version AND (attribute_not_exists(#reminder) OR "
                    "#reminder.#version <> :version OR #reminder.#threshold > :threshold)"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(
                    {
                        ":claim": {"version": version_id, "threshold": threshold},
                        ":version": version_id,
                        ":threshold": threshold,
                    }
                ),
                ReturnValues="UPDATED_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False, None  # announced already (another check got there first), or a new value
            raise
        old = from_item(answer.get("Attributes", {})).get("reminder")
        return True, Reminder.from_item(old) if old else None

    def give_back_reminder(
        self,
        ref: CredentialRef,
        version_id: str,
        threshold: int,
        previous: Reminder | None,
    ) -> None:
        """Undo a claim whose event was not published, if it still stands, so the next check tries again."""
        names = {"#reminder": "reminder", "#version": "version", "#threshold": "threshold"}
        values: dict[str, Any] = {":version": version_id, ":threshold": threshold}
        update = "REMOVE #reminder"
        if previous is not None:
            update, values[":previous"] = "SET #reminder = :previous", previous.to_item()
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item(ref.key),
                UpdateExpression=update,
                ConditionExpression="#reminder.#version = :version AND #reminder.#threshold = :threshold",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Changed since (a new value, or a later claim): nothing of ours to give back.


class Records(RecordItems):
    """Writes under the change lock: take it, commit, record a failure, delete, give it back."""

    def acquire_lock(self, ref: CredentialRef, change_id: str, staged: str | None = None) -> Locked:
        """Take the credential's change lock (or re-take our own) and return what it held before.

        `staged`: the name of the secret the change is about to create, noted in the same write so that
        a change that never commits (a crash) leaves no secret nobody knows of: the next change deletes it.
        """
        now = int(time.time())
        values: dict[str, Any] = {
            ":me": change_id,
            ":until": now + self._settings.change_lock_seconds,
            ":now": now,
        }
        expression = "SET lockId = :me, lockUntil = :until"
        if staged:
            expression += " ADD stagedSecrets :staged"
            values[":staged"] = {staged}
        try:
            answer = self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item(ref.key),
                UpdateExpression=expression,
                ConditionExpression="attribute_not_exists(lockId) OR lockUntil < :now OR lockId = :me",
                ExpressionAttributeValues=to_item(values),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ChangeInProgress() from None
            raise
        return Locked.of(from_item(answer.get("Attributes", {})))

    def release_lock(self, ref: CredentialRef, change_id: str, staged: str | None = None) -> None:
        """Give the lock back if we still hold it (and drop `staged`, a secret never created); best
        effort, the lock also expires on its own."""
        unlock = self._unlock(ref, change_id)
        if staged:
            unlock["UpdateExpression"] += " DELETE stagedSecrets :staged"
            unlock["ExpressionAttributeValues"] = to_item({":me": change_id, ":staged": {staged}})
        try:
            self.dynamodb.update_item(**unlock)
        except ClientError as exc:
            logger.warning("Could not release a change lock", extra={"error": exc.response["Error"]["Code"]})

    def commit(
        self,
        ref: CredentialRef,
        record: CredentialRecord,
        change_id: str,
        event: HistoryEvent,
    ) -> None:
        """Record the staged version as the one the app uses, with its event, in one transaction."""
        item = {
            **ref.key,
            **record.to_item(),
        }
        put = {"TableName": self._table, "Item": to_item(item), **self._held(change_id)}
        held = self._accounts(ref.tenant_id, event, record.created_by, record.account)
        self.transact_holding_lock([{"Put": put}, self._event(ref.tenant_id, event), *held])

    def committed(self, ref: CredentialRef, secret_name: str) -> bool:
        """Whether the record names this secret: settles a commit whose outcome is unknown."""
        record = self.load(ref)
        return record is not None and record.secret_name == secret_name

    def finish_failed(
        self,
        ref: CredentialRef,
        change_id: str,
        event: HistoryEvent,
        staged: str | None = None,
    ) -> None:
        """Record a change that did not happen and give the lock back, leaving the credential as it was;
        `staged`: the name of the change's secret, now known not to exist (never created, or deleted)."""
        unlock = self._unlock(ref, change_id)
        if staged:
            unlock["UpdateExpression"] += " DELETE stagedSecrets :staged"
            unlock["ExpressionAttributeValues"] = to_item({":me": change_id, ":staged": {staged}})
        held = self._accounts(ref.tenant_id, event)
        self.transact_holding_lock([{"Update": unlock}, self._event(ref.tenant_id, event), *held])

    def delete(self, ref: CredentialRef, change_id: str, event: HistoryEvent | None) -> None:
        """Remove a credential's record (under our lock), with its event when there was one."""
        key = to_item(ref.key)
        items: list[Any] = [{"Delete": {"TableName": self._table, "Key": key, **self._held(change_id)}}]
        if event is not None:
            items += [self._event(ref.tenant_id, event), *self._accounts(ref.tenant_id, event)]
        self.transact_holding_lock(items)

    def _unlock(self, ref: CredentialRef, change_id: str) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": to_item(ref.key),
            "UpdateExpression": "REMOVE lockId, lockUntil",
            **self._held(change_id),
        }

    @staticmethod
    def _held(change_id: str) -> dict[str, Any]:
        return {
            "ConditionExpression": "lockId = :me",
            "ExpressionAttributeValues": to_item({":me": change_id}),
        }

    def _accounts(self, tenant_id: str, event: HistoryEvent, *holders: Any) -> list[dict[str, Any]]:
        """Note the accounts the event (and the record) add, for the personal data cycle."""
        retention = self._settings.history_retention_days
        return held_account_writes(self._table, tenant_id, event.at, retention, event.actor, *holders)

    def _event(self, tenant_id: str, event: HistoryEvent) -> dict[str, Any]:
        item = event_item(tenant_id, event, self._settings.history_retention_days)
        return {"Put": {"TableName": self._table, "Item": item}}
