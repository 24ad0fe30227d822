"""The organization Admin API key (created with "API key without scopes"): what is particular to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from api_info.credentials.kind import CredentialKind, Facts, Secret
from api_info.models import ApiKeyInfo, ChangeKeyRequest, ChangeKeyResponse, CredentialRecord, Tenant

if TYPE_CHECKING:
    from api_info.atlassian import AtlassianClient

API_KEY_GUIDE = "https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/"
ADMIN_HOME = "https://admin.atlassian.com/"


class ApiKey(CredentialKind):
    """An org Admin API key: it must reach an organization, and reach its user management (a key
    created with scopes cannot)."""

    name = "apiKey"
    label = "API key"
    request = ChangeKeyRequest
    info_model = ApiKeyInfo
    response = ChangeKeyResponse
    secret_fields = ("apiKey",)
    refusals: ClassVar[dict[str, str]] = {
        "api_key_invalid": "Atlassian did not accept this API key. Check that you copied all of it.",
        "api_key_has_scopes": "This API key was created with scopes. Create the key with the "
        "'API key without scopes' option and save it again.",
        "api_key_no_organization": "This API key does not belong to any organization. "
        "Create it in Atlassian Administration.",
    }

    def validate(self, atlassian: AtlassianClient, tenant: Tenant, secret: Secret) -> Facts:
        """It must reach an organization, then that organization's user management, which a key
        created with scopes cannot."""
        from api_info.atlassian import Refused, deadline, header_safe  # a read path never loads it

        api_key = secret[self.name].get_secret_value()
        if not header_safe(api_key):
            # Atlassian's keys are printable ASCII; anything else cannot even be sent as a header.
            raise self.refused("api_key_invalid")
        with deadline(atlassian.transport.settings.atlassian_timeout_seconds):  # both calls together
            organizations = atlassian.org_admin.organizations(api_key)
            if isinstance(organizations, Refused):
                raise self.refused("api_key_invalid")
            if not organizations:
                raise self.refused("api_key_no_organization")
            probe = atlassian.org_admin.probe_user_management(api_key, organizations[0].id)
        if isinstance(probe, Refused):
            raise self.refused("api_key_has_scopes" if probe.status == 403 else "api_key_invalid")
        return {"organization": organizations[0]}

    def shown(self, record: CredentialRecord | None) -> dict[str, Any]:
        return {"organization": record.organization if record else None}

    def links(self, record: CredentialRecord | None) -> dict[str, str]:
        organization = record.organization if record else None
        # The organization's own API keys page once the key told which it is.
        manage = f"{ADMIN_HOME}o/{organization.id}/api-keys" if organization else ADMIN_HOME
        return {"manage_api_keys": manage, "api_key_guide": API_KEY_GUIDE}


API_KEY = ApiKey()
