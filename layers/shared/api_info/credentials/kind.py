"""What a kind of credential is. Everything that differs between the organization Admin API key, the
user API token and any kind to come is declared by one subclass in a module of its own (api_key.py,
api_token.py), and the registry (this package's `__init__`) lists them. Every other module iterates the
registry or takes a kind; none compares a kind to a string.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from api_info.errors import CredentialRejected
from api_info.records import CredentialRecord, Tenant
from api_info.status import common_info, mask

if TYPE_CHECKING:
    from pydantic import SecretStr

    from api_info.atlassian import AtlassianClient
    from api_info.models import Answer, ChangeRequest
    from api_info.settings import Settings

# A credential's secret: its fields (the value under the kind's name, and e.g. the token's email), each
# a SecretStr from the moment it is parsed to the one call that needs it.
Secret = Mapping[str, "SecretStr"]
# What Atlassian told of a value when it was validated, as fields of its record (the key's organization,
# the token's account).
Facts = dict[str, Any]


class UnknownCredential(ValueError):
    """A credential kind no module declares: a clear error, never a default."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown credential kind {name[:40]!r}")


@dataclass(frozen=True)
class ExpiryLookup:
    """What learning a credential's expiry from Atlassian may use: the tenant's other stored credentials
    (their secrets read only when needed), the client, and how long it may take (None: the default)."""

    atlassian: AtlassianClient
    settings: Settings
    stored: Callable[[CredentialKind], CredentialRecord | None]
    secret: Callable[[CredentialKind, CredentialRecord], Secret]
    seconds: Callable[[], float | None]


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Validation:
    """A value to test with Atlassian, and what its validation may use."""

    atlassian: AtlassianClient
    tenant: Tenant
    secret: Secret = field(repr=False)
    lookup: ExpiryLookup | None = None  # given: learn the value's expiry too (a change, a check)
    # Run side by side with the calls that follow the first answer (a change's name lookup); done by
    # the time the validation returns.
    alongside: Callable[[], object] = _nothing


class CredentialKind:
    """One kind of credential; each subclass has one instance, listed in the registry."""

    name: ClassVar[str]  # in the API's bodies and answers, in DynamoDB (CRED#<name>), history and events
    label: ClassVar[str]  # for people and logs: "API key"
    secret_fields: ClassVar[tuple[str, ...]]  # what its secret holds: the value (`name`) and the rest
    # Whether its secret names a person (the token's owner): erased when their account is closed.
    erased_with_owner: ClassVar[bool] = False
    # What each of Atlassian's refusals means, in words a Jira administrator can act on (never what was
    # sent): the error codes its validation answers with (422).
    refusals: ClassVar[dict[str, str]]

    def __repr__(self) -> str:
        return f"<credential kind {self.name}>"

    # The pydantic models of its change are imported when first asked for: a function that changes
    # nothing (get-info) never loads pydantic (docs/PERFORMANCE.md, "Cold start").
    @property
    def request(self) -> type[ChangeRequest]:
        """The body of its change (PUT)."""
        raise NotImplementedError

    @property
    def response(self) -> type[Answer]:
        """The answer of its change and delete, {name: info}, as the OpenAPI document describes it."""
        raise NotImplementedError

    @property
    def notified_attribute(self) -> str:
        """The tenant item's attribute that holds the status the app was last told about."""
        return f"{self.name}NotifiedStatus"

    def secret_of(self, request: ChangeRequest) -> Secret:
        """The new secret a change request carries, every field a SecretStr, read-only."""
        from pydantic import SecretStr

        values = {f.alias or n: getattr(request, n) for n, f in type(request).model_fields.items()}
        return MappingProxyType(
            {
                field: value if isinstance(value, SecretStr) else SecretStr(str(value))
                for field, value in values.items()
                if field in self.secret_fields
            }
        )

    def refused(self, code: str, **fields: str) -> CredentialRejected:
        """The refusal of this code, its message filled with `fields` (a KeyError for a code the kind
        does not declare)."""
        return CredentialRejected(code, self.refusals[code].format(**fields))

    def masked(self, secret: Secret) -> str:
        """All that is ever shown of the value."""
        return mask(secret[self.name].get_secret_value())

    def prepare(self, atlassian: AtlassianClient, tenant: Tenant) -> None:
        """Refuse a change that cannot be validated, before anything is recorded (nothing by default)."""

    def validate(self, attempt: Validation) -> Facts:
        """Test a value with Atlassian: its facts, or CredentialRejected with what the refusal means; with
        the attempt's `lookup`, also the expiry Atlassian lists for it (`expiresOn`, `expiresOnSource`),
        when it can be told: that part never fails the validation."""
        raise NotImplementedError

    def shown(self, record: CredentialRecord | None) -> dict[str, Any]:
        """What the page shows of this kind beyond every credential's status, mask, dates and people, as
        JSON (the fields its part of `response` adds)."""
        return {}

    def links(self, record: CredentialRecord | None) -> dict[str, str]:
        """The page's links of this kind, as JSON (Links' names): where to create one, and the guide."""
        return {}

    def info(self, record: CredentialRecord | None, settings: Settings) -> dict[str, Any]:
        """The credential as the page shows it, as JSON (not configured without a record)."""
        return common_info(record, settings) | self.shown(record)

    def answer(self, record: CredentialRecord | None, settings: Settings) -> dict[str, Any]:
        """The answer of a change or delete of this kind, as JSON (`response` describes it)."""
        return {self.name: self.info(record, settings)}
