"""Secrets (Secrets Manager): one secret per tenant and credential, staged, promoted, read and deleted
the way the rotation template does it (a version per change, its ClientRequestToken the change id).

Each secret lives under `<prefix><tenant hash>/<credential>`. Also here: the key that fingerprints
request bodies for Idempotency-Key checks.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import SecretStr

from api_info.models import CredentialName
from api_info.settings import Settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

SECRET_CACHE_SECONDS = 300
DELETION_RECOVERY_DAYS = 7
BATCH_READ_LIMIT = 20  # secrets per BatchGetSecretValue


class Secrets:
    """Stages, promotes, reads and schedules the deletion of the credentials' secrets."""

    def __init__(self, settings: Settings, secrets: Callable[[], SecretsManagerClient]) -> None:
        self._settings = settings
        self._secrets = secrets  # a client factory: get-info never makes this client

    @property
    def client(self) -> SecretsManagerClient:
        return self._secrets()

    def name(self, tenant_id: str, credential: CredentialName) -> str:
        """One secret per tenant and credential, named from a hash of the installation id."""
        digest = hashlib.sha256(tenant_id.encode()).hexdigest()[:40]
        return f"{self._settings.secret_prefix}{digest}/{credential}"

    def stage(
        self,
        tenant_id: str,
        credential: CredentialName,
        secret: Mapping[str, str],
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
        name = self.name(tenant_id, credential)
        value = json.dumps(dict(secret))
        if first:
            if self._create(name, tenant_id, credential, value, change_id):
                return change_id  # a secret's first version is AWSCURRENT; its id is the request token
            self._restore(name)
            stages: dict[str, Any] = {}  # PutSecretValue's default: AWSCURRENT moves to the new version
        else:
            stages = {"VersionStages": ["AWSPENDING"]}
        answer = self.client.put_secret_value(
            SecretId=name, SecretString=value, ClientRequestToken=change_id, **stages
        )
        return answer["VersionId"]

    def promote(
        self, tenant_id: str, credential: CredentialName, version_id: str, previous_version_id: str | None
    ) -> None:
        """Move AWSCURRENT to the committed version (AWSPREVIOUS then keeps the old one)."""
        name = self.name(tenant_id, credential)
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
                self.client.update_secret_version_stage(**kwargs)
                return
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "InvalidParameterException":
                    raise
                # Our record of the current version was stale (an earlier promote was interrupted).
                current = self._current_version(name)
        raise RuntimeError("could not promote the secret version")

    def read(self, tenant_id: str, credential: CredentialName, version_id: str) -> dict[str, SecretStr]:
        """The secret version the app uses, read by its VersionId (not whatever is AWSCURRENT)."""
        answer = self.client.get_secret_value(SecretId=self.name(tenant_id, credential), VersionId=version_id)
        return _secret_fields(answer["SecretString"])

    def read_many(
        self, wanted: Mapping[tuple[str, CredentialName], str]
    ) -> dict[tuple[str, CredentialName], dict[str, SecretStr]]:
        """The secret versions the app uses, 20 per BatchGetSecretValue call.

        That call reads AWSCURRENT, so a secret whose current version is not the recorded one (a
        promotion still pending, or a change under way) is left out: read it with `read`.
        """
        names = {self.name(*key): key for key in wanted}
        found: dict[tuple[str, CredentialName], dict[str, SecretStr]] = {}
        batch = list(names)
        for start in range(0, len(batch), BATCH_READ_LIMIT):
            answer = self.client.batch_get_secret_value(SecretIdList=batch[start : start + BATCH_READ_LIMIT])
            for value in answer.get("SecretValues", []):
                key = names.get(value.get("Name", ""))
                if key and value.get("VersionId") == wanted[key] and "SecretString" in value:
                    found[key] = _secret_fields(value["SecretString"])
        return found

    def schedule_deletion(self, tenant_id: str, credential: CredentialName, *, at_once: bool = False) -> None:
        """Schedule the credential's secret for deletion (a no-op if there is none, or it is already).

        `at_once` deletes it with every version and no recovery window: the erasure of a closed
        account's token and email, which nothing may bring back.
        """
        when: dict[str, Any] = (
            {"ForceDeleteWithoutRecovery": True}
            if at_once
            else {"RecoveryWindowInDays": DELETION_RECOVERY_DAYS}
        )
        try:
            self.client.delete_secret(SecretId=self.name(tenant_id, credential), **when)
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

    def _create(
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
            self.client.create_secret(**kwargs)
            return True
        except ClientError as exc:
            # It exists (InvalidRequestException: scheduled for deletion). Creating it again with the
            # same token and value, as a retry of this change does, succeeds instead.
            if exc.response["Error"]["Code"] in ("ResourceExistsException", "InvalidRequestException"):
                return False
            raise

    def _restore(self, name: str) -> None:
        try:
            self.client.restore_secret(SecretId=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "InvalidRequestException":
                raise  # InvalidRequestException: it is not scheduled for deletion, nothing to restore

    def _current_version(self, name: str) -> str | None:
        versions = self.client.describe_secret(SecretId=name).get("VersionIdsToStages", {})
        return next((v for v, stages in versions.items() if "AWSCURRENT" in stages), None)


@cache
def _secrets_provider(client: SecretsManagerClient) -> SecretsProvider:
    # Imported here: the parameters package loads every provider (SSM, AppConfig, DynamoDB) on import.
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    return SecretsProvider(boto3_client=client)


def _secret_fields(secret_string: str) -> dict[str, SecretStr]:
    values = json.loads(secret_string)
    return {name: SecretStr(value) for name, value in values.items() if isinstance(value, str)}
