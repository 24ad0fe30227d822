"""Secrets (Secrets Manager): one secret per saved value of a credential, named with the change that
saved it, created, read and deleted; and the key that fingerprints request bodies for Idempotency-Key
checks.

A value's secret is `<prefix><tenant hash>/<credential>/<change id>.<nonce>`: a name is never created
twice (AWS finishes deleting a secret asynchronously, and a name scheduled for deletion cannot be
created again), and deleting a former value's secret deletes every trace of it, its owner's email
included. The credential record names the secret it uses (`secretName`); a record without one uses
the tenant's former fixed secret `<prefix><tenant hash>/<credential>`, until its next check or change
moves it (docs/PRIVACY.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from api_info.credentials.ref import CredentialRef
from api_info.records import CredentialRecord
from api_info.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_secretsmanager.client import SecretsManagerClient
    from pydantic import SecretStr

SECRET_CACHE_SECONDS = 300
DELETION_RECOVERY_DAYS = 7
BATCH_READ_LIMIT = 20  # secrets per BatchGetSecretValue


class SecretGone(Exception):
    """The secret a record named is deleted: the record was replaced (or erased) meanwhile."""


class Secrets:
    """Creates, reads and deletes the credentials' secrets."""

    def __init__(self, settings: Settings, secrets: Callable[[], SecretsManagerClient]) -> None:
        self._settings = settings
        self._secrets = secrets  # a client factory: get-info never makes this client

    @property
    def client(self) -> SecretsManagerClient:
        return self._secrets()

    def fixed_name(self, ref: CredentialRef) -> str:
        """The tenant's former fixed secret of a credential (every value in versions of one secret)."""
        return ref.fixed_secret_name(self._settings.secret_prefix)

    def new_name(self, ref: CredentialRef, change_id: str) -> str:
        """A name never used before for the value a change saves."""
        return ref.new_secret_name(self._settings.secret_prefix, change_id)

    def name_of(self, ref: CredentialRef, record: CredentialRecord) -> str:
        """The secret that holds a record's value."""
        return record.secret_name or self.fixed_name(ref)

    def create(self, name: str, ref: CredentialRef, secret: Mapping[str, SecretStr], version_id: str) -> None:
        """Create the secret of one value; its only version's id is `version_id` (ClientRequestToken)."""
        kind = ref.kind.name
        kwargs: dict[str, Any] = {
            "Name": name,
            "Description": f"Flexible User License {kind} of one installation",
            # The one call that needs the value itself.
            "SecretString": json.dumps({field: value.get_secret_value() for field, value in secret.items()}),
            "ClientRequestToken": version_id,
            "Tags": [
                {"Key": "installationId", "Value": ref.tenant_id[:256]},
                {"Key": "credential", "Value": kind},
            ],
        }
        if self._settings.kms_key_arn:
            kwargs["KmsKeyId"] = self._settings.kms_key_arn
        self.client.create_secret(**kwargs)

    def read(self, ref: CredentialRef, record: CredentialRecord) -> dict[str, SecretStr]:
        """The secret version the record names (not whatever is AWSCURRENT); SecretGone when that
        secret was deleted (the record was replaced meanwhile, and its former secret deleted)."""
        try:
            answer = self.client.get_secret_value(
                SecretId=self.name_of(ref, record), VersionId=record.secret_version_id
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("ResourceNotFoundException", "InvalidRequestException"):
                raise SecretGone() from None
            raise
        return _secret_fields(answer["SecretString"])

    def read_many(
        self, wanted: Mapping[CredentialRef, CredentialRecord]
    ) -> dict[CredentialRef, dict[str, SecretStr]]:
        """The secret versions the records name, 20 per BatchGetSecretValue call.

        That call reads AWSCURRENT, so a secret whose current version is not the recorded one (a
        former fixed secret during a change) is left out: read it with `read`.
        """
        names = {self.name_of(ref, record): ref for ref, record in wanted.items()}
        found: dict[CredentialRef, dict[str, SecretStr]] = {}
        batch = list(names)
        for start in range(0, len(batch), BATCH_READ_LIMIT):
            answer = self.client.batch_get_secret_value(SecretIdList=batch[start : start + BATCH_READ_LIMIT])
            for value in answer.get("SecretValues", []):
                key = names.get(value.get("Name", ""))
                if (
                    key
                    and value.get("VersionId") == wanted[key].secret_version_id
                    and "SecretString" in value
                ):
                    found[key] = _secret_fields(value["SecretString"])
        return found

    def delete_now(self, names: Iterable[str]) -> None:
        """Delete secrets with every version and no recovery window (a no-op for one already gone):
        a former value, its owner's email with it, which nothing may bring back."""
        for name in sorted(set(names)):
            self._delete(name, {"ForceDeleteWithoutRecovery": True})

    def schedule_deletion(self, names: Iterable[str]) -> None:
        """Schedule secrets for deletion after the recovery window (a deleted credential, an uninstall)."""
        for name in sorted(set(names)):
            self._delete(name, {"RecoveryWindowInDays": DELETION_RECOVERY_DAYS})

    def _delete(self, name: str, when: dict[str, Any]) -> None:
        try:
            self.client.delete_secret(SecretId=name, **when)
        except ClientError as exc:
            # Never created, or already scheduled for deletion: nothing more to do.
            if exc.response["Error"]["Code"] not in ("ResourceNotFoundException", "InvalidRequestException"):
                raise

    def fingerprint_key(self) -> bytes:
        """The key of the HMAC that fingerprints request bodies (never a plain hash of a secret)."""
        arn = self._settings.fingerprint_secret_arn
        if not arn:
            raise RuntimeError("FINGERPRINT_SECRET_ARN is not set")
        value = _secrets_provider(self.client).get(arn, max_age=SECRET_CACHE_SECONDS)
        return str(value).encode()


@cache
def _secrets_provider(client: SecretsManagerClient) -> SecretsProvider:
    # Imported here: the parameters package loads every provider (SSM, AppConfig, DynamoDB) on import.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client)


def _secret_fields(secret_string: str) -> dict[str, SecretStr]:
    from pydantic import SecretStr  # only where a secret is read: GET /api-info reads none

    values = json.loads(secret_string)
    return {name: SecretStr(value) for name, value in values.items() if isinstance(value, str)}
