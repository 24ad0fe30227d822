"""Personal data in a tenant's items (DynamoDB): the Atlassian accounts held, erasing and refreshing them,
and the reporting cycle's bookkeeping on the tenant item.

Account ids and display names sit in the credential items (`createdBy`, the token's `account`, with the
token owner's `email`) and in the history's `actor`. Every rewrite is a conditional update on the value
it replaces, so that a change committed meanwhile wins.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from api_info.credentials import CredentialKind, kind_named
from api_info.credentials.ref import CRED_PREFIX
from api_info.observability import logger
from api_info.records import CLOSED_ACCOUNT, ERASED_SECRET, HistoryEvent, LastCheck
from api_info.store.accounts import account_ids
from api_info.store.dynamo import (
    TENANT_SK,
    Table,
    accounts_pk,
    from_item,
    history_pk,
    idempotency_pk,
    tenant_pk,
    to_item,
)
from api_info.store.history import event_item

if TYPE_CHECKING:
    from api_info.messages import HistoryRewrite

DEFAULT_CYCLE_DAYS = 7  # Atlassian's default cycle period (docs/PRIVACY.md)
RECORDED = "heldAccountsRecorded"  # on the tenant item: its record of held accounts is complete
PLACEHOLDER_ACTOR = {"type": "atlassian", "accountId": CLOSED_ACCOUNT}
PLACEHOLDER_ACCOUNT = {"accountId": CLOSED_ACCOUNT}


@dataclass
class HeldAccounts:
    """What a tenant holds of Atlassian accounts, and where its reporting cycle stands."""

    installed: bool = False
    # accountId -> the newest time its data was written or refreshed (ISO 8601, UTC)
    accounts: dict[str, str] = field(default_factory=dict)
    reported: dict[str, str] = field(default_factory=dict)  # accountId -> when it was last reported
    refreshed: dict[str, str] = field(default_factory=dict)  # accountId -> when its name was refreshed
    period_days: int = DEFAULT_CYCLE_DAYS
    not_before: str | None = None  # Atlassian's Retry-After, as a time
    credentials: list[dict[str, Any]] = field(default_factory=list)  # the credential items, deserialised
    recorded: bool = False  # whether the tenant's record of held accounts is complete (back-filled)

    def note(self, actor: Any, at: Any) -> None:
        """Count an actor (or account) seen in an item written at `at`."""
        for account_id in account_ids(actor) if isinstance(actor, dict) else ():
            self.note_id(account_id, at)

    def note_id(self, account_id: str, at: Any) -> None:
        self.accounts[account_id] = max(self.accounts.get(account_id, ""), str(at or ""))


class HeldItems(Table):
    """The accounts a tenant's items hold and where its reporting cycle stands: the reads and the
    conditional writes the erasing and renaming are made of."""

    def held(self, tenant_id: str) -> HeldAccounts:
        """Every Atlassian account the tenant's items hold, with when each was last written.

        The history's accounts come from their record (store.accounts), never from the history itself,
        except once per tenant: a tenant recorded before the record was kept is back-filled first."""
        held = HeldAccounts()
        for item in self._query(tenant_pk(tenant_id)):
            if item["SK"] == TENANT_SK:
                held.installed = True
                held.recorded = bool(item.get(RECORDED))
                held.reported = dict(item.get("personalDataReportedAt") or {})
                held.refreshed = dict(item.get("personalDataRefreshedAt") or {})
                held.period_days = int(item.get("personalDataCyclePeriodDays") or DEFAULT_CYCLE_DAYS)
                held.not_before = item.get("personalDataNotBefore")
            elif item["SK"].startswith(CRED_PREFIX) and "status" in item:
                held.credentials.append(item)
                held.note(item.get("createdBy"), item.get("lastUpdatedAt"))
                held.note(item.get("account"), item.get("lastUpdatedAt"))
        if held.installed and not held.recorded:
            self._back_fill(tenant_id)
        for item in self._query(accounts_pk(tenant_id), "SK, writtenAt"):
            held.note_id(str(item["SK"]), item.get("writtenAt"))
        for account_id, at in held.refreshed.items():
            if account_id in held.accounts:
                held.accounts[account_id] = max(held.accounts[account_id], at)
        return held

    def _back_fill(self, tenant_id: str) -> None:
        """Record the accounts of a tenant's history once, read from the history itself; then mark the
        record complete. Safe to run again: an interrupted back-fill is done again by the next call."""
        seen = HeldAccounts()
        for item in self._query(history_pk(tenant_id), "actor, #at", {"#at": "at"}):
            seen.note(item.get("actor"), item.get("at"))
        expires = int(time.time()) + self._settings.history_retention_days * 86400
        self.batch_write(
            [
                {
                    "PutRequest": {
                        "Item": to_item(
                            {"PK": accounts_pk(tenant_id), "SK": a, "writtenAt": at, "ttl": expires}
                        )
                    }
                }
                for a, at in sorted(seen.accounts.items())
            ]
        )
        self._update_tenant(tenant_id, f"SET {RECORDED} = :yes", {":yes": True})
        logger.info("Held accounts recorded", extra={"tenant": tenant_id, "accounts": len(seen.accounts)})

    def history_is_long(self, tenant_id: str, limit: int) -> bool:
        """Whether the tenant's history holds more than `limit` events (reads at most `limit` + 1 keys)."""
        answer = self.dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="PK = :pk",
            ExpressionAttributeValues={":pk": {"S": history_pk(tenant_id)}},
            Select="COUNT",
            Limit=limit + 1,
        )
        return answer.get("Count", 0) > limit

    def forget_accounts(self, tenant_id: str, account_ids: Iterable[str]) -> None:
        """Drop closed accounts from the record of held accounts (they are erased everywhere)."""
        keys = [to_item({"PK": accounts_pk(tenant_id), "SK": a}) for a in sorted(account_ids)]
        self.batch_write([{"DeleteRequest": {"Key": key}} for key in keys])

    def delete_idempotency_records(self, tenant_id: str) -> None:
        """Delete the tenant's saved answers (a 24 h cache, which holds emails and accounts)."""
        keys = self.partition_keys(idempotency_pk(tenant_id))
        self.batch_write([{"DeleteRequest": {"Key": key}} for key in keys])

    def record_cycle(
        self,
        tenant_id: str,
        *,
        reported: Mapping[str, str],
        refreshed: Mapping[str, str],
        period_days: int,
        not_before: str | None,
    ) -> None:
        """Keep where the tenant's reporting cycle stands on its item (never recreating an uninstalled
        one)."""
        values: dict[str, Any] = {
            ":reported": dict(reported),
            ":refreshed": dict(refreshed),
            ":period": period_days,
        }
        expression = (
            "SET personalDataReportedAt = :reported, personalDataRefreshedAt = :refreshed, "
            "personalDataCyclePeriodDays = :period"
        )
        if not_before:
            expression += ", personalDataNotBefore = :notBefore"
            values[":notBefore"] = not_before
        else:
            expression += " REMOVE personalDataNotBefore"
        self._update_tenant(tenant_id, expression, values)

    def _update_tenant(self, tenant_id: str, expression: str, values: dict[str, Any] | None) -> None:
        """Update the tenant item, never recreating it after an uninstall (nothing is left to keep then)."""
        kwargs: dict[str, Any] = {"ExpressionAttributeValues": to_item(values)} if values else {}
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item({"PK": tenant_pk(tenant_id), "SK": TENANT_SK}),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(PK)",
                **kwargs,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def _update(self, key: dict[str, Any], expression: str, condition: str, old: str, new: Any) -> bool:
        try:
            self.dynamodb.update_item(
                TableName=self._table,
                Key=to_item(key),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeValues=to_item({":old": old, ":new": new}),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False  # changed meanwhile: the change wins, the next cycle looks again
        return True

    def _query(
        self, pk: str, projection: str | None = None, names: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of one partition, deserialised, read consistently a page at a time."""
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        if projection:
            kwargs["ProjectionExpression"] = projection
        if names:
            kwargs["ExpressionAttributeNames"] = names
        while True:
            answer = self.dynamodb.query(**kwargs)
            for item in answer.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


class PersonalData(HeldItems):
    """Finds, erases and refreshes the personal data of a tenant's items."""

    def erase_in_credentials(
        self,
        tenant_id: str,
        credentials: list[dict[str, Any]],
        account_id: str,
        closed: LastCheck,
        told: Mapping[CredentialKind, str],
        secrets: Mapping[CredentialKind, str],
    ) -> set[CredentialKind]:
        """Replace a closed account in the credential items. A credential whose secret names that account
        (a kind `erased_with_owner`: the token) becomes `invalid`, without its email, its secret (in
        `secrets`) retired; the kinds so erased are returned (the caller deletes their secrets).

        `told[kind]` is the status the app was last told about for it, or would have been at its save:
        kept on the tenant item if nothing is there yet, so that the next check announces the change."""
        erased: set[CredentialKind] = set()
        for item in credentials:
            kind = kind_named(str(item["SK"]).removeprefix(CRED_PREFIX))
            key = {"PK": item["PK"], "SK": item["SK"]}
            owner = (item.get("account") or {}).get("accountId") == account_id
            if kind.erased_with_owner and owner:
                if self._erase_owner(tenant_id, kind, item, account_id, closed, told[kind], secrets[kind]):
                    erased.add(kind)
            elif (item.get("createdBy") or {}).get("accountId") == account_id:
                self._update(
                    key, "SET createdBy = :new", "createdBy.accountId = :old", account_id, PLACEHOLDER_ACTOR
                )
        return erased

    def _erase_owner(
        self,
        tenant_id: str,
        kind: CredentialKind,
        item: dict[str, Any],
        account_id: str,
        closed: LastCheck,
        told: str,
        secret: str,
    ) -> bool:
        sets = ["account = :account", "#status = :invalid", "lastCheck = :check", "secretVersionId = :erased"]
        values: dict[str, Any] = {
            ":account": PLACEHOLDER_ACCOUNT,
            ":invalid": "invalid",
            ":check": closed.to_item(),
            ":erased": ERASED_SECRET,
            ":old": account_id,
            ":version": item["secretVersionId"],
            ":now": int(time.time()),
            ":secret": {secret},
        }
        if (item.get("createdBy") or {}).get("accountId") == account_id:
            sets.append("createdBy = :placeholder")
            values[":placeholder"] = PLACEHOLDER_ACTOR
        event = HistoryEvent.from_item(
            {
                "at": closed.at,
                "actor": {"type": "forge"},
                "credential": kind.name,
                "action": "checked",
                "outcome": "rejected",
                "code": closed.detail,
                "maskedValue": item.get("maskedValue"),
            }
        )
        update = {
            "TableName": self._table,
            "Key": to_item({"PK": item["PK"], "SK": item["SK"]}),
            # The secret goes to the retired ones in the same write: a crash before its deletion leaves
            # it listed, and the next check or change deletes it.
            "UpdateExpression": "SET "
            + ", ".join(sets)
            + " ADD retiredSecrets :secret REMOVE email, secretName",
            # Not while a change holds the lock: it is about to replace the token (and its secret).
            "ConditionExpression": (
                "account.accountId = :old AND secretVersionId = :version "
                "AND (attribute_not_exists(lockId) OR lockUntil < :now)"
            ),
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": to_item(values),
        }
        put = {
            "TableName": self._table,
            "Item": event_item(tenant_id, event, self._settings.history_retention_days),
        }
        # The check that follows tells the app the token became invalid: it compares with this status.
        remember = {
            "TableName": self._table,
            "Key": to_item({"PK": tenant_pk(tenant_id), "SK": TENANT_SK}),
            "UpdateExpression": "SET #told = if_not_exists(#told, :told)",
            "ConditionExpression": "attribute_exists(PK)",
            "ExpressionAttributeNames": {"#told": kind.notified_attribute},
            "ExpressionAttributeValues": to_item({":told": told}),
        }
        if self.transact([{"Update": update}, {"Put": put}, {"Update": remember}]):
            return True
        logger.info(
            "A change came first: its erasure waits for the next cycle", extra={"credential": kind.name}
        )
        return False

    def refresh_in_credentials(self, credentials: list[dict[str, Any]], account_id: str, name: str) -> None:
        """Write an updated account's new display name wherever the credential items show it."""
        for item in credentials:
            key = {"PK": item["PK"], "SK": item["SK"]}
            for attribute in ("createdBy", "account"):
                if (item.get(attribute) or {}).get("accountId") == account_id:
                    self._update(
                        key,
                        f"SET {attribute}.displayName = :new",
                        f"{attribute}.accountId = :old",
                        account_id,
                        name,
                    )

    def rewrite_history(self, tenant_id: str, closed: set[str], names: Mapping[str, str]) -> int:
        """Erase closed accounts from the history's actors and write the new names of updated ones,
        a page at a time; returns how many events were rewritten."""
        rewritten = 0
        for item in self._query(history_pk(tenant_id), "PK, SK, actor"):
            account_id = str((item.get("actor") or {}).get("accountId") or "")
            key = {"PK": item["PK"], "SK": item["SK"]}
            if account_id in closed:
                self._update(key, "SET actor = :new", "actor.accountId = :old", account_id, PLACEHOLDER_ACTOR)
            elif account_id in names:
                self._update(
                    key,
                    "SET actor.displayName = :new",
                    "actor.accountId = :old",
                    account_id,
                    names[account_id],
                )
            else:
                continue
            rewritten += 1
        return rewritten

    def hold_names(self, tenant_id: str, names: Mapping[str, str]) -> None:
        """Keep updated accounts' new names on the tenant item until the worker has rewritten the history."""
        self._update_tenant(tenant_id, "SET personalDataPendingNames = :names", {":names": dict(names)})

    def apply_rewrite(self, work: HistoryRewrite) -> int:
        """The check worker's part of a cycle: erase and rename accounts in a long history; how many events
        were rewritten. Safe to run again: each rewrite is conditional on the old value."""
        names = {a: n for a, n in self.pending_names(work.tenant_id).items() if a in work.updated}
        rewritten = self.rewrite_history(work.tenant_id, set(work.closed), names)
        self.forget_accounts(work.tenant_id, work.closed)
        if names:
            self.forget_names(work.tenant_id)
        logger.info(
            "History rewritten for personal data", extra={"tenant": work.tenant_id, "events": rewritten}
        )
        return rewritten

    def pending_names(self, tenant_id: str) -> dict[str, str]:
        """The new names waiting for the worker's rewrite of the history."""
        for item in self._query(tenant_pk(tenant_id), "SK, personalDataPendingNames"):
            if item["SK"] == TENANT_SK:
                return dict(item.get("personalDataPendingNames") or {})
        return {}

    def forget_names(self, tenant_id: str) -> None:
        """Drop the names the worker has written into the history."""
        self._update_tenant(tenant_id, "REMOVE personalDataPendingNames", None)
