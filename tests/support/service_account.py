"""A third kind of credential, for tests only: an Atlassian service account's OAuth client credentials.

It is what docs/DESIGN.md "Adding a credential kind" asks of a new kind, in one module: its names, its
request, answer and page models, its secret's fields, its validation and refusal, its links. Nothing
else of the service names it: registering it (`register(SERVICE_ACCOUNT)`) is all it takes.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from api_info.credentials.kind import CredentialKind, Facts, Validation
from api_info.models import Answer, ChangeRequest, CredentialInfo, Organization
from api_info.models import Secret as SecretField
from api_info.records import CredentialRecord


class ChangeServiceAccountRequest(ChangeRequest):
    client_id: str = Field(min_length=1, max_length=128)
    service_account: SecretField  # the client secret


class ServiceAccountInfo(CredentialInfo):
    organization: Organization | None


class ChangeServiceAccountResponse(Answer):
    service_account: ServiceAccountInfo = Field(alias="serviceAccount")


class ServiceAccount(CredentialKind):
    """Client credentials, validated as the organization admin API takes a bearer (the simulated
    Atlassian accepts the bearers it was given as keys)."""

    name = "serviceAccount"
    label = "service account"
    request = ChangeServiceAccountRequest  # type: ignore[assignment]  # the layer's kinds import theirs lazily
    response = ChangeServiceAccountResponse  # type: ignore[assignment]
    secret_fields = ("clientId", "serviceAccount")
    refusals: ClassVar[dict[str, str]] = {
        "service_account_invalid": "Atlassian did not accept these client credentials. Check them both."
    }

    def validate(self, attempt: Validation) -> Facts:
        from api_info.atlassian import Refused

        secret = attempt.secret[self.name].get_secret_value()
        organizations = attempt.atlassian.org_admin.organizations(secret)
        if isinstance(organizations, Refused) or not organizations:
            raise self.refused("service_account_invalid")
        attempt.alongside()
        return {"organization": organizations[0]}

    def shown(self, record: CredentialRecord | None) -> dict[str, Any]:
        organization = record.organization if record else None
        return {"organization": organization.shown() if organization else None}

    def links(self, record: CredentialRecord | None) -> dict[str, str]:
        return {"manageServiceAccounts": "https://admin.atlassian.com/"}


SERVICE_ACCOUNT = ServiceAccount()
