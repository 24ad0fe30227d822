"""How the rest of the app reads a tenant's current key or token: `services().reader.current(...)`.

The only way in for code that calls Atlassian on the tenant's behalf. It never hands out a staged
version: what it returns is always what GET /api-info describes. Values are cached per container for
`CREDENTIAL_CACHE_SECONDS`; after Atlassian answers 401, read again with `refresh=True`.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from api_info.credentials import CredentialKind
from api_info.credentials.ref import CredentialRef

if TYPE_CHECKING:
    from api_info.models import CurrentCredential
    from api_info.store.records import Records
    from api_info.store.secrets import Secrets


class CredentialReader:
    """The tenant's current key or token, cached per container for a bounded time.

    Reads the version the credential record names (not a staging label), so what the app uses is
    always what GET /api-info describes. Call with `refresh=True` after Atlassian answered 401.
    """

    def __init__(self, records: Records, secrets: Secrets, ttl_seconds: int) -> None:
        self._records = records
        self._secrets = secrets
        self._ttl = ttl_seconds
        self._cache: dict[CredentialRef, tuple[float, CurrentCredential | None]] = {}
        self._lock = threading.Lock()

    def current(
        self, tenant_id: str, kind: CredentialKind, *, refresh: bool = False
    ) -> CurrentCredential | None:
        """The credential, or None when none is stored (or its secret was erased with its closed owner)."""
        key = CredentialRef(tenant_id, kind)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[0] > now and not refresh:
            return cached[1]
        record = self._records.load(key)
        value = None
        if record is not None and not record.secret_erased:
            from api_info.models import CurrentCredential  # pydantic: only the code that reads a secret

            secret = self._secrets.read(key, record)
            email = secret.get("email")
            value = CurrentCredential(
                credential=kind.name,
                value=secret[kind.name],
                email=email.get_secret_value() if email else None,
                version_id=record.secret_version_id,
            )
        with self._lock:
            self._cache[key] = (now + self._ttl, value)
        return value
