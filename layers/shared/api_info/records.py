"""The records the store keeps (a tenant, a credential and its parts, a history event), as plain frozen
dataclasses: every function reads them, and a function that validates no body (get-info) then imports no
pydantic at all (docs/PERFORMANCE.md, "Cold start"). Request bodies and answers stay pydantic models
(models.py), which Powertools validates and documents.

`from_item` reads the plain values of a DynamoDB item or an answer (camelCase; unknown attributes are
ignored), `to_item` writes them back (camelCase, None left out).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from api_info.answers import clean_text

Status = Literal["not_configured", "valid", "expiring", "expired", "invalid"]
StoredStatus = Literal["valid", "invalid"]
CheckOutcome = Literal["ok", "rejected", "error"]
ExpirySource = Literal["atlassian", "admin"]
ActorType = Literal["atlassian", "aws", "forge", "scheduler"]

# What replaces the account id of a closed Atlassian account wherever the service kept it.
CLOSED_ACCOUNT = "closed-account"
# The secretVersionId of a credential whose secret was erased (its owner's account was closed).
ERASED_SECRET = "erased"


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def _plain(value: Any) -> Any:
    if isinstance(value, _Record):
        return value.to_item()
    if isinstance(value, (set, frozenset)):
        return set(value)
    return value


def _text(value: object) -> str | None:
    # Text from Atlassian (a display name, an organization's name): cleaned and cut as contract 2d says,
    # whether it comes from an answer or from a stored item.
    return clean_text(value)


def _one_of(value: object, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}")


def _required(values: Mapping[str, Any], name: str) -> Any:
    value = values.get(name)
    if value is None:
        raise ValueError(f"{name} is missing")
    return value


class _Record:
    """The camelCase item of a record, its None fields left out (nested records alike)."""

    def to_item(self) -> dict[str, Any]:
        return {
            _camel(f.name): _plain(getattr(self, f.name))
            for f in fields(self)  # type: ignore[arg-type]
            if getattr(self, f.name) is not None
        }


@dataclass(frozen=True)
class Actor(_Record):
    """Who did something: a Jira user, an AWS operator, Forge itself or the scheduler."""

    type: ActorType
    account_id: str | None = None
    arn: str | None = None
    display_name: str | None = None

    def __post_init__(self) -> None:
        _one_of(self.type, ("atlassian", "aws", "forge", "scheduler"), "type")
        object.__setattr__(self, "display_name", _text(self.display_name))

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> Actor:
        return cls(
            type=values.get("type"),  # type: ignore[arg-type]  # checked by __post_init__
            account_id=values.get("accountId"),
            arn=values.get("arn"),
            display_name=values.get("displayName"),
        )

    def public(self) -> dict[str, str | None]:
        """The actor as the contract shows it."""
        if self.type == "atlassian":
            return {"type": "atlassian", "accountId": self.account_id, "displayName": self.display_name}
        if self.type == "aws":
            return {"type": "aws", "arn": self.arn}
        return {"type": self.type}


@dataclass(frozen=True)
class Organization(_Record):
    """The organization an API key belongs to."""

    id: str
    name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _text(self.name))

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> Organization:
        return cls(id=_required(values, "id"), name=values.get("name"))

    def shown(self) -> dict[str, Any]:
        """As the page shows it (every field, null included)."""
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class Account(_Record):
    """The Atlassian account an API token signs in as."""

    account_id: str
    display_name: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "display_name", _text(self.display_name))

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> Account:
        return cls(account_id=_required(values, "accountId"), display_name=values.get("displayName"))

    def shown(self) -> dict[str, Any]:
        """As the page shows it (every field, null included)."""
        return {"accountId": self.account_id, "displayName": self.display_name}


@dataclass(frozen=True)
class LastCheck(_Record):
    """The last check of a credential with Atlassian."""

    at: str
    outcome: CheckOutcome
    detail: str | None = None

    def __post_init__(self) -> None:
        _one_of(self.outcome, ("ok", "rejected", "error"), "outcome")

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> LastCheck:
        return cls(at=_required(values, "at"), outcome=values.get("outcome"), detail=values.get("detail"))  # type: ignore[arg-type]

    def shown(self) -> dict[str, Any]:
        """As the page shows it (every field, null included)."""
        return {"at": self.at, "outcome": self.outcome, "detail": self.detail}


@dataclass(frozen=True)
class Tenant(_Record):
    """A Forge installation, recorded on first sight."""

    installation_id: str
    cloud_id: str | None = None
    site_url: str | None = None

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> Tenant:
        return cls(
            installation_id=_required(values, "installationId"),
            cloud_id=values.get("cloudId"),
            site_url=values.get("siteUrl"),
        )


@dataclass(frozen=True)
class Reminder(_Record):
    """The expiry reminders announced for one saved value: the smallest threshold so far."""

    version: str  # the secretVersionId they were announced for; a new value starts afresh
    threshold: int

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> Reminder:
        return cls(version=_required(values, "version"), threshold=int(_required(values, "threshold")))


def _nested(kind: Any, value: Any) -> Any:
    return None if value is None else value if isinstance(value, kind) else kind.from_item(value)


@dataclass(frozen=True)
class CredentialRecord(_Record):
    """What DynamoDB holds about a stored credential: never the secret, only its masked form."""

    status: StoredStatus
    masked_value: str
    secret_version_id: str
    last_updated_at: str
    created_by: Actor
    # The secret that holds this value, one per saved value (absent: the tenant's former fixed secret,
    # until its next check or change moves it); and former secrets still to be deleted.
    secret_name: str | None = None
    retired_secrets: frozenset[str] | None = None
    organization: Organization | None = None
    email: str | None = field(default=None, repr=False)  # personal data: no repr in logs
    account: Account | None = None
    expires_on: str | None = None
    expires_on_source: ExpirySource | None = None
    last_check: LastCheck | None = None
    reminder: Reminder | None = None

    def __post_init__(self) -> None:
        _one_of(self.status, ("valid", "invalid"), "status")
        if self.retired_secrets is not None:
            object.__setattr__(self, "retired_secrets", frozenset(self.retired_secrets))
        # Records saved before the source was kept hold a date only an administrator could enter.
        if not self.expires_on:
            object.__setattr__(self, "expires_on_source", None)
        elif self.expires_on_source is None:
            object.__setattr__(self, "expires_on_source", "admin")
        else:
            _one_of(self.expires_on_source, ("atlassian", "admin"), "expiresOnSource")

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> CredentialRecord:
        return cls(
            status=values.get("status"),  # type: ignore[arg-type]  # checked by __post_init__
            masked_value=_required(values, "maskedValue"),
            secret_version_id=_required(values, "secretVersionId"),
            last_updated_at=_required(values, "lastUpdatedAt"),
            created_by=_nested(Actor, _required(values, "createdBy")),
            secret_name=values.get("secretName"),
            retired_secrets=values.get("retiredSecrets"),
            organization=_nested(Organization, values.get("organization")),
            email=values.get("email"),
            account=_nested(Account, values.get("account")),
            expires_on=values.get("expiresOn"),
            expires_on_source=values.get("expiresOnSource"),
            last_check=_nested(LastCheck, values.get("lastCheck")),
            reminder=_nested(Reminder, values.get("reminder")),
        )

    @property
    def secret_erased(self) -> bool:
        """Whether its secret was erased with its owner's closed account: nothing to read or check."""
        return self.secret_version_id == ERASED_SECRET


Action = Literal["changed", "checked", "deleted"]
Outcome = Literal["succeeded", "rejected", "failed"]


@dataclass(frozen=True)
class HistoryEvent(_Record):
    """One line of the audit trail."""

    at: str
    actor: Actor
    credential: str  # a registered credential kind's name
    action: Action
    outcome: Outcome
    code: str | None = None
    masked_value: str | None = None

    def __post_init__(self) -> None:
        from api_info.credentials import kind_named  # the kinds' modules import this one

        kind_named(self.credential)  # UnknownCredential (a ValueError) for a name no kind has
        _one_of(self.action, ("changed", "checked", "deleted"), "action")
        _one_of(self.outcome, ("succeeded", "rejected", "failed"), "outcome")

    @classmethod
    def from_item(cls, values: Mapping[str, Any]) -> HistoryEvent:
        return cls(
            at=_required(values, "at"),
            actor=_nested(Actor, _required(values, "actor")),
            credential=values.get("credential"),  # type: ignore[arg-type]
            action=values.get("action"),  # type: ignore[arg-type]
            outcome=values.get("outcome"),  # type: ignore[arg-type]
            code=values.get("code"),
            masked_value=values.get("maskedValue"),
        )

    def shown(self) -> dict[str, Any]:
        """As GET /api-info/history shows it (every field, null included)."""
        return {
            "at": self.at,
            "actor": self.actor.public(),
            "credential": self.credential,
            "action": self.action,
            "outcome": self.outcome,
            "code": self.code,
            "maskedValue": self.masked_value,
        }
