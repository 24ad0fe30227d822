"""Pydantic models: request bodies, answers, and the records the store keeps."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from api_info.answers import clean_text

Status = Literal["not_configured", "valid", "expiring", "expired", "invalid"]
StoredStatus = Literal["valid", "invalid"]
CheckOutcome = Literal["ok", "rejected", "error"]
ExpirySource = Literal["atlassian", "admin"]

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What replaces the account id of a closed Atlassian account wherever the service kept it.
CLOSED_ACCOUNT = "closed-account"
# The secretVersionId of a credential whose secret was erased (its owner's account was closed).
ERASED_SECRET = "erased"


def _is_text(value: str) -> bool:
    # JSON can spell a lone surrogate ("\ud800"), which no UTF-8 request to Atlassian or AWS can carry.
    return not any("\ud800" <= ch <= "\udfff" for ch in value)


def _no_whitespace(value: SecretStr) -> SecretStr:
    secret = value.get_secret_value()
    if not _is_text(secret):
        raise ValueError("must contain only characters you can type or paste")
    if any(ch.isspace() for ch in secret):
        raise ValueError("must not contain spaces or line breaks")
    return value


def _plain_text(value: str) -> str:
    if not _is_text(value):
        raise ValueError("must contain only characters you can type or paste")
    return value


# Text from Atlassian (a display name, an organization's name): cleaned and cut as contract 2d says,
# whether it comes from an answer or from a stored item.
AtlassianText = Annotated[str | None, BeforeValidator(clean_text)]


def _registered(name: str) -> str:
    # Imported here: the kinds' modules import this one.
    from api_info.credentials import kind_named

    return kind_named(name).name  # UnknownCredential (a ValueError) for a name no kind has


def _kind_names(schema: dict[str, Any]) -> None:
    from api_info.credentials import kinds

    title = schema.pop("title", None)
    schema.update({"type": "string", "enum": [kind.name for kind in kinds()]})
    if title:
        schema["title"] = title


# A credential kind's name (credentials/): in history events and the events the service sends.
CredentialName = Annotated[str, AfterValidator(_registered), Field(json_schema_extra=_kind_names)]

# SecretStr keeps the value out of every repr, so no log line or traceback can show it.
Secret = Annotated[SecretStr, Field(min_length=1, max_length=1024), AfterValidator(_no_whitespace)]


class CamelModel(BaseModel):
    # hide_input_in_errors: a ValidationError's message would otherwise quote the key or token it refused.
    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", hide_input_in_errors=True)


# --- request bodies -----------------------------------------------------------------------------


class ChangeRequest(CamelModel):
    """What every change body holds besides the new secret."""

    expires_on: str | None = Field(default=None, description="YYYY-MM-DD, today or later")

    @field_validator("expires_on")
    @classmethod
    def _real_date_not_in_past(cls, value: str | None) -> str | None:
        # The key's and the token's alike (contract, PUT /api-info/key and /token): "not in the past".
        if value is None:
            return None
        if not ISO_DATE.match(value):
            raise ValueError("must be a date written YYYY-MM-DD")
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a real calendar date") from None
        if day < datetime.now(UTC).date():
            raise ValueError("must not be in the past")
        return value


class ChangeKeyRequest(ChangeRequest):
    """Body of PUT /api-info/key."""

    api_key: Secret = Field(description="The organization Admin API key (created without scopes)")


class ChangeTokenRequest(ChangeRequest):
    """Body of PUT /api-info/token."""

    email: Annotated[str, AfterValidator(_plain_text)] = Field(
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        repr=False,  # personal data: no repr in logs
    )
    api_token: Secret = Field(description="The user API token (created with 'Create API token')")


# --- stored records and answers ------------------------------------------------------------------


class Actor(BaseModel):
    """Who did something: a Jira user, an AWS operator, Forge itself or the scheduler."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: Literal["atlassian", "aws", "forge", "scheduler"]
    account_id: str | None = Field(default=None, alias="accountId")
    arn: str | None = None
    display_name: AtlassianText = Field(default=None, alias="displayName")

    def public(self) -> dict[str, str | None]:
        """The actor as the contract shows it."""
        if self.type == "atlassian":
            return {"type": "atlassian", "accountId": self.account_id, "displayName": self.display_name}
        if self.type == "aws":
            return {"type": "aws", "arn": self.arn}
        return {"type": self.type}


class Organization(BaseModel):
    id: str
    name: AtlassianText = None


class Account(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    account_id: str = Field(alias="accountId")
    display_name: AtlassianText = Field(default=None, alias="displayName")


class LastCheck(BaseModel):
    at: str
    outcome: CheckOutcome
    detail: str | None = None


class Tenant(BaseModel):
    """A Forge installation, recorded on first sight."""

    installation_id: str = Field(alias="installationId")
    cloud_id: str | None = Field(default=None, alias="cloudId")
    site_url: str | None = Field(default=None, alias="siteUrl")

    model_config = ConfigDict(populate_by_name=True)


class Reminder(BaseModel):
    """The expiry reminders announced for one saved value: the smallest threshold so far."""

    version: str  # the secretVersionId they were announced for; a new value starts afresh
    threshold: int


class CredentialRecord(BaseModel):
    """What DynamoDB holds about a stored credential: never the secret, only its masked form."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    status: StoredStatus
    masked_value: str = Field(alias="maskedValue")
    secret_version_id: str = Field(alias="secretVersionId")
    # The secret that holds this value, one per saved value (absent: the tenant's former fixed secret,
    # until its next check or change moves it); and former secrets still to be deleted.
    secret_name: str | None = Field(default=None, alias="secretName")
    retired_secrets: set[str] | None = Field(default=None, alias="retiredSecrets")
    organization: Organization | None = None
    email: str | None = None
    account: Account | None = None
    expires_on: str | None = Field(default=None, alias="expiresOn")
    expires_on_source: ExpirySource | None = Field(default=None, alias="expiresOnSource")
    last_updated_at: str = Field(alias="lastUpdatedAt")
    created_by: Actor = Field(alias="createdBy")
    last_check: LastCheck | None = Field(default=None, alias="lastCheck")
    reminder: Reminder | None = None

    @model_validator(mode="after")
    def _dated_by_an_admin_unless_told(self) -> CredentialRecord:
        # Records saved before the source was kept hold a date only an administrator could enter.
        if self.expires_on and self.expires_on_source is None:
            self.expires_on_source = "admin"
        if not self.expires_on:
            self.expires_on_source = None
        return self

    @property
    def secret_erased(self) -> bool:
        """Whether its secret was erased with its owner's closed account: nothing to read or check."""
        return self.secret_version_id == ERASED_SECRET


class Answer(BaseModel):
    """Base of the answers: camelCase on the wire, field names in code."""

    model_config = ConfigDict(populate_by_name=True)


class CredentialInfo(Answer):
    """One credential as GET /api-info shows it."""

    status: Status
    masked_value: str | None = Field(alias="maskedValue")
    expires_on: str | None = Field(alias="expiresOn")
    expires_on_source: ExpirySource | None = Field(alias="expiresOnSource")
    days_left: int | None = Field(alias="daysLeft")
    last_updated_at: str | None = Field(alias="lastUpdatedAt")
    created_by: dict[str, str | None] | None = Field(alias="createdBy")
    last_check: LastCheck | None = Field(alias="lastCheck")


class ApiKeyInfo(CredentialInfo):
    organization: Organization | None


class ApiTokenInfo(CredentialInfo):
    email: str | None
    account: Account | None


class Links(Answer):
    manage_api_keys: str = Field(alias="manageApiKeys")
    api_key_guide: str = Field(alias="apiKeyGuide")
    manage_api_tokens: str = Field(alias="manageApiTokens")
    api_token_guide: str = Field(alias="apiTokenGuide")


class TenantInfo(Answer):
    installation_id: str = Field(alias="installationId")
    cloud_id: str | None = Field(alias="cloudId")
    site_url: str | None = Field(alias="siteUrl")


class InfoResponse(Answer):
    """Answer of GET /api-info."""

    tenant: TenantInfo
    api_key: ApiKeyInfo = Field(alias="apiKey")
    api_token: ApiTokenInfo = Field(alias="apiToken")
    links: Links


class ChangeKeyResponse(Answer):
    api_key: ApiKeyInfo = Field(alias="apiKey")


class ChangeTokenResponse(Answer):
    api_token: ApiTokenInfo = Field(alias="apiToken")


class HistoryEvent(BaseModel):
    """One line of the audit trail."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    at: str
    actor: Actor
    credential: CredentialName
    action: Literal["changed", "checked", "deleted"]
    outcome: Literal["succeeded", "rejected", "failed"]
    code: str | None = None
    masked_value: str | None = Field(default=None, alias="maskedValue")


class HistoryEntry(Answer):
    """One event of GET /api-info/history."""

    at: str
    actor: dict[str, str | None]
    credential: CredentialName
    action: Literal["changed", "checked", "deleted"]
    outcome: Literal["succeeded", "rejected", "failed"]
    code: str | None
    masked_value: str | None = Field(alias="maskedValue")


class HistoryResponse(Answer):
    """Answer of GET /api-info/history: newest first, and the cursor of the next page."""

    events: list[HistoryEntry]
    next_cursor: str | None = Field(alias="nextCursor")


class CurrentCredential(BaseModel):
    """A tenant's current key or token, for the rest of the app: the secret stays a SecretStr."""

    credential: CredentialName
    value: SecretStr
    email: str | None = None
    version_id: str


class PersonalDataRequest(BaseModel):
    """Body of POST /ops/tenants/{tenantId}/personal-data: act on one account as Atlassian would say."""

    model_config = ConfigDict(extra="forbid")

    account_id: str = Field(alias="accountId", min_length=1, max_length=128, pattern=r"^[A-Za-z0-9:_-]+$")
    status: Literal["closed", "updated"]


class PersonalDataResponse(Answer):
    """Answer of the personal data routes: what this call reported and did."""

    due: bool = Field(description="whether any account was due to be reported")
    reported: int = Field(description="accounts reported to Atlassian by this call")
    closed: int = Field(description="closed accounts erased")
    updated: int = Field(description="updated accounts whose names were refreshed")
    queued: bool = Field(description="whether the history's rewrite was left to the check worker")


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(Answer):
    code: str
    message: str
    request_id: str | None = Field(alias="requestId")
    details: list[ErrorDetail] | None = None


class ErrorResponse(Answer):
    """The body of every non-2xx answer."""

    error: ErrorBody
