"""Credential records (DynamoDB): the change lock, the commit, a failed change, deletion, reading one,
and the claim of an expiry reminder.

A record holds a credential's metadata and masked value and names the Secrets Manager version in use;
it never holds the secret. A change takes the record's lock, and writes the record and its history
event in one transaction under that lock.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError

from api_info.errors import ChangeInProgress
from api_info.models import CredentialName, CredentialRecord, HistoryEvent, Reminder
from api_info.observability import logger
from api_info.store.accounts import held_account_writes
from api_info.store.dynamo import Table, cred_sk, from_item, tenant_pk, to_item
from api_info.store.history import event_item


class Records(Table):
    """Reads and writes the credential records, under the change lock."""

    def load(self, tenant_id: str, credential: CredentialName) -> CredentialRecord | None:
        """One credential's record, read consistently."""
        answer = self.dynamodb.get_item(
            TableName=self._table,
            Key=to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
            ConsistentRead=True,
        )
        item = from_item(answer.get("Item", {}))
        return CredentialRecord.model_validate(item) if "status" in item else None

    def holds(self, tenant_id: str, credential: CredentialName) -> bool:
        """Whether anything is held for the credential (its record, or a change's lock), read consistently."""
        answer = self.dynamodb.get_item(
            TableName=self._table,
            Key=to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
            ConsistentRead=True,
            ProjectionExpression="PK",
        )
        return "Item" in answer

    def acquire_lock(
        self, tenant_id: str, credential: CredentialName, change_id: str
    ) -> CredentialRecord | None:
        """Take the credential's change lock (or re-take our own) and return its current record."""
        now = int(time.time())
        try:
            answer = self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
                UpdateExpression="SET lockId = :me, lockUntil = :until",
                ConditionExpression="attribute_not_exists(lockId) OR lockUntil < :now OR lockId = :me",
                ExpressionAttributeValues=to_item(
                    {":me": change_id, ":until": now + self._settings.change_lock_seconds, ":now": now}
                ),
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ChangeInProgress() from None
            raise
        old = from_item(answer.get("Attributes", {}))
        return CredentialRecord.model_validate(old) if "status" in old else None

    def release_lock(self, tenant_id: str, credential: CredentialName, change_id: str) -> None:
        """Give the lock back if we still hold it; best effort, the lock also expires on its own."""
        try:
            self.dynamodb.update_item(**self._unlock(tenant_id, credential, change_id))
        except ClientError as exc:
            logger.warning("Could not release a change lock", extra={"error": exc.response["Error"]["Code"]})

    def commit(
        self,
        tenant_id: str,
        credential: CredentialName,
        record: CredentialRecord,
        change_id: str,
        event: HistoryEvent,
    ) -> None:
        """Record the staged version as the one the app uses, with its event, in one transaction."""
        item = {
            "PK": tenant_pk(tenant_id),
            "SK": cred_sk(credential),
            **record.model_dump(by_alias=True, exclude_none=True),
        }
        put = {"TableName": self._table, "Item": to_item(item), **self._held(change_id)}
        held = self._accounts(tenant_id, event, record.created_by, record.account)
        self.transact_holding_lock([{"Put": put}, self._event(tenant_id, event), *held])

    def committed(self, tenant_id: str, credential: CredentialName, version_id: str) -> bool:
        """Whether the record names this version: settles a commit whose outcome is unknown."""
        record = self.load(tenant_id, credential)
        return record is not None and record.secret_version_id == version_id

    def finish_failed(
        self, tenant_id: str, credential: CredentialName, change_id: str, event: HistoryEvent
    ) -> None:
        """Record a change that did not happen and give the lock back, leaving the credential as it was."""
        unlock = self._unlock(tenant_id, credential, change_id)
        held = self._accounts(tenant_id, event)
        self.transact_holding_lock([{"Update": unlock}, self._event(tenant_id, event), *held])

    def delete(
        self, tenant_id: str, credential: CredentialName, change_id: str, event: HistoryEvent | None
    ) -> None:
        """Remove a credential's record (under our lock), with its event when there was one."""
        key = to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)})
        items: list[Any] = [{"Delete": {"TableName": self._table, "Key": key, **self._held(change_id)}}]
        if event is not None:
            items += [self._event(tenant_id, event), *self._accounts(tenant_id, event)]
        self.transact_holding_lock(items)

    def claim_reminder(
        self, tenant_id: str, credential: CredentialName, version_id: str, threshold: int
    ) -> tuple[bool, Reminder | None]:
        """Claim the announcement of `threshold` for this value of the credential: only while it is still
        the value in use and nothing at or below that threshold was announced for it. Whether it was
        claimed, and the reminder state it replaced (for `give_back_reminder`)."""
        names = {"#reminder": "reminder", "#version": "version", "#threshold": "threshold"}
        try:
            answer = self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
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
        return True, Reminder.model_validate(old) if old else None

    def give_back_reminder(
        self,
        tenant_id: str,
        credential: CredentialName,
        version_id: str,
        threshold: int,
        previous: Reminder | None,
    ) -> None:
        """Undo a claim whose event was not published, if it still stands, so the next check tries again."""
        names = {"#reminder": "reminder", "#version": "version", "#threshold": "threshold"}
        values: dict[str, Any] = {":version": version_id, ":threshold": threshold}
        update = "REMOVE #reminder"
        if previous is not None:
            update, values[":previous"] = "SET #reminder = :previous", previous.model_dump()
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
                UpdateExpression=update,
                ConditionExpression="#reminder.#version = :version AND #reminder.#threshold = :threshold",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_item(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            # Changed since (a new value, or a later claim): nothing of ours to give back.

    def _unlock(self, tenant_id: str, credential: CredentialName, change_id: str) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Key": to_item({"PK": tenant_pk(tenant_id), "SK": cred_sk(credential)}),
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
