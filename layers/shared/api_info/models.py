"""Pydantic models: request bodies and answers, which Powertools validates and documents (the records
the store keeps are plain values: records.py)."""

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
)
from pydantic.alias_generators import to_camel

from api_info.answers import clean_text
from api_info.records import CheckOutcome, ExpirySource, Status

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


# --- answers ------------------------------------------------------------------------------------
# The records the store keeps are plain dataclasses (records.py). Organization, Account and LastCheck
# below are how answers show them: pydantic twins of the same names, so that the OpenAPI document names
# their schemas as before.


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
