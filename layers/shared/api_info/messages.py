"""The bodies of the check queue's messages and of the credential events (messaging.py sends them):
pydantic models, validated where they are read and written. Messages and events carry tenant ids,
statuses and masked values, never a secret."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api_info.models import CredentialName, LastCheck, TenantInfo
from api_info.records import Status


class CheckRequest(BaseModel):
    """Body of a check queue message: one tenant whose credentials are to be checked."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    kind: Literal["check"] = "check"
    tenant_id: str = Field(alias="tenantId", min_length=1)
    requested_at: str | None = Field(default=None, alias="requestedAt")


class HistoryRewrite(BaseModel):
    """Body of a check queue message of kind `personal-data`: accounts to erase or rename in a long
    history. No name, no email, no token: the new names wait on the tenant item."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    kind: Literal["personal-data"]  # required: a check request must never pass for one
    tenant_id: str = Field(alias="tenantId", min_length=1)
    closed: list[str] = []
    updated: list[str] = []


class CredentialStatusChanged(BaseModel):
    """Detail of the EventBridge event sent when a credential's shown status changes (never a secret)."""

    tenant: TenantInfo
    credential: CredentialName
    previous_status: Status = Field(serialization_alias="previousStatus")
    status: Status
    expires_on: str | None = Field(serialization_alias="expiresOn")
    masked_value: str = Field(serialization_alias="maskedValue")
    last_check: LastCheck = Field(serialization_alias="lastCheck")


class CredentialExpiryReminder(BaseModel):
    """Detail of the "Credential expiry reminder" event (docs/API.md §5): no secret, no masked value."""

    tenant_id: str = Field(serialization_alias="tenantId")
    credential: CredentialName
    expires_on: str = Field(serialization_alias="expiresOn")
    days_left: int = Field(serialization_alias="daysLeft")
    threshold: int
