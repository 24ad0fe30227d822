"""A stored credential record for rule tests, with overrides."""

from __future__ import annotations

from api_info.records import CredentialRecord


def credential_record(**overrides: object) -> CredentialRecord:
    """A valid record of a credential saved by an administrator, with `overrides` (aliases) applied."""
    values: dict[str, object] = {
        "status": "valid",
        "maskedValue": "••••••••ABCD",
        "secretVersionId": "v1",
        "lastUpdatedAt": "2026-11-27T10:00:00Z",
        "createdBy": {"type": "atlassian", "accountId": "a"},
        **overrides,
    }
    return CredentialRecord.from_item(values)
