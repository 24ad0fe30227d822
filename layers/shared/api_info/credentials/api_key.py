"""The organization Admin API key (created with "API key without scopes"): what is particular to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from api_info.credentials.kind import CredentialKind, ExpiryLookup, Facts, Validation
from api_info.records import CredentialRecord, Tenant

if TYPE_CHECKING:
    from api_info.atlassian import AtlassianClient, Refused, Workspace
    from api_info.models import ChangeKeyRequest, ChangeKeyResponse

_T = TypeVar("_T")

API_KEY_GUIDE = "https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/"
ADMIN_HOME = "https://admin.atlassian.com/"


class ApiKey(CredentialKind):
    """An org Admin API key: it must reach an organization, and reach its user management (a key
    created with scopes cannot)."""

    name = "apiKey"
    label = "API key"
    secret_fields = ("apiKey",)
    refusals: ClassVar[dict[str, str]] = {
        "api_key_invalid": "Atlassian did not accept this API key. Check that you copied all of it.",
        "api_key_has_scopes": "This API key was created with scopes. Create the key with the "
        "'API key without scopes' option and save it again.",
        "api_key_no_organization": "This API key does not belong to any organization. "
        "Create it in Atlassian Administration.",
        "api_key_other_organization": "This key belongs to the organization {organization}, which does "
        "not hold this Jira site. Create the key in the organization that holds {site}.",
    }

    @property
    def request(self) -> type[ChangeKeyRequest]:
        from api_info.models import ChangeKeyRequest

        return ChangeKeyRequest

    @property
    def response(self) -> type[ChangeKeyResponse]:
        from api_info.models import ChangeKeyResponse

        return ChangeKeyResponse

    def validate(self, attempt: Validation) -> Facts:
        """1. It must reach an organization; then, side by side: 2. that organization's user management,
        which a key created with scopes cannot read; 3. the organization must hold the tenant's site;
        and its expiry as the organization lists its keys. Refusals are answered in that order."""
        from api_info.atlassian import Refused, deadline, header_safe, together  # a read path never loads it

        atlassian, tenant, secret, lookup = attempt.atlassian, attempt.tenant, attempt.secret, attempt.lookup

        api_key = secret[self.name].get_secret_value()
        if not header_safe(api_key):
            # Atlassian's keys are printable ASCII; anything else cannot even be sent as a header.
            raise self.refused("api_key_invalid")
        seconds = atlassian.transport.settings.atlassian_timeout_seconds
        with deadline(seconds):
            organizations = atlassian.org_admin.organizations(api_key)
        if isinstance(organizations, Refused):
            raise self.refused("api_key_invalid")
        if not organizations:
            raise self.refused("api_key_no_organization")
        organization = organizations[0]
        probe, search, listing, other = together(
            lambda: _within(seconds, atlassian.org_admin.probe_user_management, api_key, organization.id),
            lambda: _within(seconds, _site_held, atlassian, api_key, organization.id, tenant),
            lambda: _listed_expiry(atlassian, api_key, organization.id, lookup),
            attempt.alongside,
        )
        if isinstance(probed := probe.result(), Refused):
            raise self.refused("api_key_has_scopes" if probed.status == 403 else "api_key_invalid")
        held = search.result()
        if held is False:
            site, name = tenant.site_url or "", organization.name or organization.id
            raise self.refused("api_key_other_organization", organization=name, site=site)
        if isinstance(held, Refused) and held.status == 401:
            raise self.refused("api_key_invalid")
        facts: Facts = {"organization": organization}
        other.result()
        if learnt := listing.result():
            facts |= {"expiresOn": learnt, "expiresOnSource": "atlassian"}
        return facts

    def shown(self, record: CredentialRecord | None) -> dict[str, Any]:
        organization = record.organization if record else None
        return {"organization": organization.shown() if organization else None}

    def links(self, record: CredentialRecord | None) -> dict[str, str]:
        organization = record.organization if record else None
        # The organization's own API keys page once the key told which it is.
        manage = f"{ADMIN_HOME}o/{organization.id}/api-keys" if organization else ADMIN_HOME
        return {"manageApiKeys": manage, "apiKeyGuide": API_KEY_GUIDE}


API_KEY = ApiKey()


def _within(seconds: float, call: Callable[..., _T], *args: Any) -> _T:
    """One call of a validation, on its own deadline (within the request's budget)."""
    from api_info.atlassian import deadline

    with deadline(seconds):
        return call(*args)


def _site_held(atlassian: AtlassianClient, api_key: str, org_id: str, tenant: Tenant) -> bool | Refused:
    """Whether the organization holds the tenant's Jira site (a workspace whose id ends in its cloud id,
    or whose address is its site URL); Refused when the search cannot tell; True for a tenant whose site
    is not known (nothing to compare)."""
    from api_info.atlassian import Refused, same_site

    if not tenant.site_url and not tenant.cloud_id:
        return True
    cloud = f"/{tenant.cloud_id}" if tenant.cloud_id else None

    def holds(workspace: Workspace) -> bool:
        by_id = cloud is not None and workspace.id.endswith(cloud)
        return by_id or same_site(workspace.host_url, tenant.site_url)

    found = atlassian.org_admin.find_workspace(api_key, org_id, holds)
    return found if isinstance(found, Refused) else found is not None


def _listed_expiry(
    atlassian: AtlassianClient, api_key: str, org_id: str, lookup: ExpiryLookup | None
) -> str | None:
    """The key's expiry as its organization lists it, or None (never raises)."""
    if lookup is None:
        return None
    from api_info.expiry import key_expiry

    limit, seconds = lookup.settings.atlassian_timeout_seconds, lookup.seconds()
    time = limit if seconds is None else min(limit, seconds)
    return key_expiry(atlassian, api_key=api_key, org_id=org_id, seconds=time)
