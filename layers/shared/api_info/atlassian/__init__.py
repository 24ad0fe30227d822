"""The Atlassian client: the only code that talks HTTP to Atlassian, one class per API it calls (the
organization admin API, API access, the Jira site's REST API) over one Transport. Nothing here imports
httpx until the first call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from api_info.atlassian.api_access import ApiAccess, ApiToken, IncompleteListing
from api_info.atlassian.jira import NAME_LOOKUP_SECONDS, AdminAnswer, Jira, Myself
from api_info.atlassian.org_admin import OrgAdmin
from api_info.atlassian.transport import (
    Accepted,
    Refused,
    Transport,
    deadline,
    header_safe,
    is_id,
    read_json,
    retry_after,
    within_deadline,
)
from api_info.errors import CredentialRejected
from api_info.models import Account, Organization
from api_info.settings import Settings

if TYPE_CHECKING:
    import httpx

__all__ = [
    "NAME_LOOKUP_SECONDS",
    "Accepted",
    "AdminAnswer",
    "ApiAccess",
    "ApiToken",
    "AtlassianClient",
    "IncompleteListing",
    "Jira",
    "KeyFacts",
    "Myself",
    "OrgAdmin",
    "Refused",
    "TokenFacts",
    "Transport",
    "deadline",
    "header_safe",
    "is_id",
    "read_json",
    "retry_after",
    "within_deadline",
]


@dataclass(frozen=True)
class KeyFacts:
    organization: Organization


@dataclass(frozen=True)
class TokenFacts:
    account: Account


class AtlassianClient:
    """The three APIs over one transport, and (for now) the two validations written over their calls."""

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self.transport = Transport(settings, http)
        self.org_admin = OrgAdmin(self.transport)
        self.api_access = ApiAccess(self.transport)
        self.jira = Jira(self.transport)
        self._seconds = settings.atlassian_timeout_seconds

    def validate_key(self, api_key: str) -> KeyFacts:
        """Check an org Admin API key: it must reach an organization and be a key without scopes."""
        if not header_safe(api_key):
            # Atlassian's keys are printable ASCII; anything else cannot even be sent as a header.
            raise CredentialRejected("api_key_invalid")
        with deadline(self._seconds):  # both exchanges together
            orgs = self.org_admin.organizations(api_key)
            if isinstance(orgs, Refused):
                raise CredentialRejected("api_key_invalid")
            if not orgs:
                raise CredentialRejected("api_key_no_organization")
            # User management has no scopes, so a key created with scopes is refused here.
            users = self.org_admin.probe_user_management(api_key, orgs[0].id)
        if isinstance(users, Refused):
            raise CredentialRejected("api_key_has_scopes" if users.status == 403 else "api_key_invalid")
        return KeyFacts(orgs[0])

    def validate_token(self, *, site_url: str, cloud_id: str, email: str, api_token: str) -> TokenFacts:
        """Check a user API token with its email against the Jira site, then tell scoped tokens apart."""
        with deadline(self._seconds):  # both exchanges together
            me = self.jira.myself(site_url, email, api_token)
            if isinstance(me, Refused):
                gateway = self.jira.myself_through_gateway(cloud_id, email, api_token)
                raise CredentialRejected(
                    "api_token_has_scopes" if isinstance(gateway, Accepted) else "api_token_invalid"
                )
        if not me.active:
            raise CredentialRejected("api_token_account_inactive")
        if me.email_address is not None and me.email_address.casefold() != email.casefold():
            raise CredentialRejected("api_token_email_mismatch")
        return TokenFacts(me.account)

    # The calls other modules make through the client today, until they name the API they use. Methods,
    # not bound attributes, so that a test patching Transport.send or Jira.admin_answer sees them too.

    def vet_url(self, url: str) -> str:
        return self.transport.vet_url(url)

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.transport.send(method, url, **kwargs)

    def admin_answer(self, *, api_base_url: str, system_token: str, account_id: str) -> AdminAnswer:
        return self.jira.admin_answer(
            api_base_url=api_base_url, system_token=system_token, account_id=account_id
        )

    def display_name(self, *, api_base_url: str, system_token: str, account_id: str) -> str | None:
        return self.jira.display_name(
            api_base_url=api_base_url, system_token=system_token, account_id=account_id
        )
