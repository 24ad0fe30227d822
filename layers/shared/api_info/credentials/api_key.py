"""The organization Admin API key (created with "API key without scopes"): what is particular to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

    def validate(self, atlassian: AtlassianClient, tenant: Tenant, secret: Secret) -> Facts:
        return {"organization": atlassian.validate_key(secret[self.name].get_secret_value()).organization}

    def shown(self, record: CredentialRecord | None) -> dict[str, Any]:
        return {"organization": record.organization if record else None}

    def links(self, record: CredentialRecord | None) -> dict[str, str]:
        organization = record.organization if record else None
        # The organization's own API keys page once the key told which it is.
        manage = f"{ADMIN_HOME}o/{organization.id}/api-keys" if organization else ADMIN_HOME
        return {"manage_api_keys": manage, "api_key_guide": API_KEY_GUIDE}


API_KEY = ApiKey()
