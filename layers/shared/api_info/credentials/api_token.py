"""The user API token with its email (created with the plain "Create API token"): what is particular
to it."""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, ClassVar

from api_info.credentials.api_key import API_KEY
from api_info.credentials.kind import CredentialKind, ExpiryLookup, Facts, Validation
from api_info.errors import ApiError, BadRequest
from api_info.records import CredentialRecord, Tenant

if TYPE_CHECKING:
    from pydantic import SecretStr

    from api_info.atlassian import AtlassianClient
    from api_info.models import ChangeTokenRequest, ChangeTokenResponse

MANAGE_API_TOKENS = "https://id.atlassian.com/manage-profile/security/api-tokens"
API_TOKEN_GUIDE = (
    "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/"
)


class ApiToken(CredentialKind):
    """A user API token: it must sign its email in to the tenant's Jira site, and not be a scoped token.
    Its expiry is read from the organization's listing of API tokens, with the tenant's API key."""

    name = "apiToken"
    label = "API token"
    secret_fields = ("email", "apiToken")
    erased_with_owner = True  # its secret holds its owner's email
    refusals: ClassVar[dict[str, str]] = {
        "api_token_invalid": "Atlassian did not accept this email and API token. Check both and try again.",
        "api_token_has_scopes": "This API token was created with scopes. Create the token with the "
        "'Create API token' button and save it again.",
        "api_token_email_mismatch": "This API token belongs to another email address. "
        "Enter the email address of the token's account.",
        "api_token_account_inactive": "The Atlassian account of this API token is deactivated. "
        "Use a token of an active account.",
    }

    @property
    def request(self) -> type[ChangeTokenRequest]:
        from api_info.models import ChangeTokenRequest

        return ChangeTokenRequest

    @property
    def response(self) -> type[ChangeTokenResponse]:
        from api_info.models import ChangeTokenResponse

        return ChangeTokenResponse

    def prepare(self, atlassian: AtlassianClient, tenant: Tenant) -> None:
        if not tenant.site_url or not tenant.cloud_id:
            raise BadRequest("The Jira site of this installation is not known yet. Reopen the app from Jira.")
        atlassian.transport.vet_url(tenant.site_url)  # a site we never call is refused (403)

    def validate(self, attempt: Validation) -> Facts:
        """It must sign its email in to the tenant's Jira site; refused there, the API gateway tells a
        token created with scopes (which it accepts) from a wrong one. Then its expiry, as the
        organization of the tenant's API key lists its tokens."""
        from api_info.atlassian import Accepted, Refused, deadline, together  # a read path never loads it

        atlassian, tenant, secret, lookup = attempt.atlassian, attempt.tenant, attempt.secret, attempt.lookup

        if not tenant.site_url or not tenant.cloud_id:
            raise ApiError("The Jira site of this installation is not known.")
        email, token = secret["email"].get_secret_value(), secret[self.name].get_secret_value()
        seconds = atlassian.transport.settings.atlassian_timeout_seconds
        with deadline(seconds):
            # The tenant's stored key, for the listing that follows, is read while Jira answers.
            asked, stored = together(
                lambda: atlassian.jira.myself(tenant.site_url or "", email, token),
                lambda: _stored_key(lookup),
            )
            me = asked.result()
        if isinstance(me, Refused):
            with deadline(seconds):
                gateway = atlassian.jira.myself_through_gateway(tenant.cloud_id, email, token)
            scoped = isinstance(gateway, Accepted)
            raise self.refused("api_token_has_scopes" if scoped else "api_token_invalid")
        if not me.active:
            raise self.refused("api_token_account_inactive")
        if me.email_address is not None and me.email_address.casefold() != email.casefold():
            raise self.refused("api_token_email_mismatch")
        facts: Facts = {"email": email, "account": me.account}
        account_id = me.account.account_id
        listing, other = together(lambda: self._listed_expiry(lookup, stored, account_id), attempt.alongside)
        other.result()
        if learnt := listing.result():
            facts |= {"expiresOn": learnt, "expiresOnSource": "atlassian"}
        return facts

    def _listed_expiry(
        self, lookup: ExpiryLookup | None, stored: Future[StoredKey], account_id: str
    ) -> str | None:
        """The token's expiry as the organization of the tenant's API key lists it (never raises)."""
        if lookup is None:
            return None
        # Imported here: only a token's change or check lists tokens.
        from api_info.expiry import learn_token_expiry

        def read_key(record: CredentialRecord) -> Any:
            return stored.result()[1]  # what reading it raised, learn_token_expiry logs

        key = stored.result()[0] if stored.exception() is None else lookup.stored(API_KEY)
        seconds = lookup.seconds()  # asked now, after the validation
        return learn_token_expiry(lookup.atlassian, lookup.settings, key, read_key, account_id, seconds)

    def shown(self, record: CredentialRecord | None) -> dict[str, Any]:
        account = record.account if record else None
        return {"email": record.email if record else None, "account": account.shown() if account else None}

    def links(self, record: CredentialRecord | None) -> dict[str, str]:
        return {"manageApiTokens": MANAGE_API_TOKENS, "apiTokenGuide": API_TOKEN_GUIDE}


API_TOKEN = ApiToken()


StoredKey = tuple[CredentialRecord | None, "SecretStr | None"]


def _stored_key(lookup: ExpiryLookup | None) -> StoredKey:
    """The tenant's API key record, and its value when it is one the token listing can use."""
    key = lookup.stored(API_KEY) if lookup else None
    if lookup is None or key is None or key.status != "valid" or key.organization is None:
        return key, None
    return key, lookup.secret(API_KEY, key)[API_KEY.name]
