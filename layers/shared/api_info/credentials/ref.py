"""A credential's identity: one tenant's credential of one kind, and every name built from it."""

from __future__ import annotations

import hashlib
import secrets as random
import uuid
from dataclasses import dataclass

from api_info.credentials.kind import CredentialKind
from api_info.store.dynamo import tenant_pk

CRED_PREFIX = "CRED#"  # the sort key of a credential's item in its tenant's partition
CHANGE_NAMESPACE = uuid.UUID("5f1c7a62-0d0e-4d43-9a53-64b9c8f0a1d7")


@dataclass(frozen=True)
class CredentialRef:
    """The credential of `kind` of one tenant: its DynamoDB key (which also holds its change lock), the
    names of its secrets and the id of a keyed change of it."""

    tenant_id: str
    kind: CredentialKind

    @property
    def key(self) -> dict[str, str]:
        """The key of its item: its record and its change lock."""
        return {"PK": tenant_pk(self.tenant_id), "SK": CRED_PREFIX + self.kind.name}

    def fixed_secret_name(self, prefix: str) -> str:
        """The tenant's former fixed secret of the credential (every value in versions of one secret)."""
        digest = hashlib.sha256(self.tenant_id.encode()).hexdigest()[:40]
        return f"{prefix}{digest}/{self.kind.name}"

    def new_secret_name(self, prefix: str, change_id: str) -> str:
        """A name never used before for the value a change saves: the change's id and a random part (AWS
        cannot create again a name it is still deleting)."""
        return f"{self.fixed_secret_name(prefix)}/{change_id}.{random.token_hex(4)}"

    def change_id(self, idempotency_key: str, fingerprint: str) -> str:
        """The id of a keyed change (lock owner, ClientRequestToken): the same on every retry of it."""
        return str(
            uuid.uuid5(CHANGE_NAMESPACE, f"{self.tenant_id}|{self.kind.name}|{idempotency_key}|{fingerprint}")
        )
