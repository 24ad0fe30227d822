"""The user API token with its email (created with the plain "Create API token"): what is particular
to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api_info.credentials.api_key import API_KEY
from api_info.credentials.kind import CredentialKind, ExpiryLookup, Facts, Secret
from api_info.errors import ApiError, BadRequest
from api_info.models import ApiTokenInfo, ChangeTokenRequest, ChangeTokenResponse, CredentialRecord, Tenant

if TYPE_CHECKING:
    from api_info.atlassian import AtlassianClient

MANAGE_API_TOKENS = "https://id.atlassian.com/manage-profile/security/api-tokens"
API_TOKEN_GUIDE = (
    "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/"
)


class ApiToken(CredentialKind):
    """A user API token: it must sign its email in to the tenant's Jira site, and not be a scoped token.
    Its expiry is read from the organization's listing of API tokens, with the tenant's API key."""

    name = "apiToken"
    label = "API token"
    request = ChangeTokenRequest
    info_model = ApiTokenInfo
    response = ChangeTokenResponse
    secret_fields = ("email", "apiToken")
    erased_with_owner = True  # its secret holds its owner's email

    def prepare(self, atlassian: AtlassianClient, tenant: Tenant) -> None:
        if not tenant.site_url or not tenant.cloud_id:
            raise BadRequest("The Jira site of this installation is not known yet. Reopen the app from Jira.")
        atlassian.vet_url(tenant.site_url)  # a site we never call is refused (403)

    def validate(self, atlassian: AtlassianClient, tenant: Tenant, secret: Secret) -> Facts:
        if not tenant.site_url or not tenant.cloud_id:
            raise ApiError("The Jira site of this installation is not known.")
        email = secret["email"].get_secret_value()
        facts = atlassian.validate_token(
            site_url=tenant.site_url,
            cloud_id=tenant.cloud_id,
            email=email,
            api_token=secret[self.name].get_secret_value(),
        )
        return {"email": email, "account": facts.account}

    def learn_expiry(self, lookup: ExpiryLookup, facts: Facts) -> str | None:
        # Imported here: only a token's change or check lists tokens.
        from api_info.expiry import learn_token_expiry

        def read_key(record: CredentialRecord) -> Any:
            return lookup.secret(API_KEY, record)[API_KEY.name]

        key = lookup.stored(API_KEY)
        account_id = facts["account"].account_id
        seconds = lookup.seconds()  # asked now, after the validation
        return learn_token_expiry(lookup.atlassian, lookup.settings, key, read_key, account_id, seconds)

    def shown(self, record: CredentialRecord | None) -> dict[str, Any]:
        return {"email": record.email if record else None, "account": record.account if record else None}

    def links(self, record: CredentialRecord | None) -> dict[str, str]:
        return {"manage_api_tokens": MANAGE_API_TOKENS, "api_token_guide": API_TOKEN_GUIDE}


API_TOKEN = ApiToken()
