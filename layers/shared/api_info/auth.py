"""Who is calling: the Forge Invocation Token check, the operators' IAM identity, the administrator check."""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from api_info.atlassian import AtlassianClient, Transport, read_json
from api_info.errors import AtlassianError, AtlassianUnavailable, Forbidden, Unauthenticated
from api_info.observability import logger
from api_info.records import Actor, Tenant

if TYPE_CHECKING:
    import jwt

FIT_ISSUER = "forge/invocation-token"
LEEWAY_SECONDS = 60
JWKS_LIFESPAN_SECONDS = 3600
JWKS_COOLDOWN_SECONDS = 30
JWKS_UNAVAILABLE = "Atlassian's token signing keys could not be fetched. Try again in a few minutes."


@dataclass(frozen=True)
class FitClaims:
    """The claims of a Forge Invocation Token this service reads; unknown claims are ignored."""

    installation_id: str  # app.installationId
    api_base_url: str | None = None  # app.apiBaseUrl
    principal: str | None = None
    cloud_id: str | None = None  # context.cloudId
    site_url: str | None = None  # context.siteUrl

    @classmethod
    def read(cls, claims: dict[str, Any]) -> FitClaims:
        """The claims of a verified token, or ValueError when one is missing or not of its kind."""
        app, context = claims.get("app"), claims.get("context", {})
        if not isinstance(app, dict) or not isinstance(context, dict):
            raise ValueError("app and context must be objects")
        installation_id = app.get("installationId")
        if not isinstance(installation_id, str) or not installation_id:
            raise ValueError("app.installationId must be a non-empty string")
        optional = (
            app.get("apiBaseUrl"),
            claims.get("principal"),
            context.get("cloudId"),
            context.get("siteUrl"),
        )
        if any(value is not None and not isinstance(value, str) for value in optional):
            raise ValueError("apiBaseUrl, principal, cloudId and siteUrl must be strings")
        return cls(installation_id, *optional)


@dataclass(frozen=True)
class Caller:
    """The tenant a request acts on and the actor recorded for it."""

    tenant: Tenant
    actor: Actor
    api_base_url: str | None = None
    # The app system token Forge sent (x-forge-oauth-system), for Jira calls: a credential, kept out of repr.
    system_token: str | None = field(default=None, repr=False)


class TokenVerifier:
    """Verifies Forge Invocation Tokens: RS256 only, against a cached JWKS (refetched on an unknown kid).

    PyJWT (and cryptography under it) is imported, and the JWKS client made, on the first token: the
    operators' IAM routes never need them.
    """

    def __init__(self, *, jwks_url: str, app_id: str, http: Transport) -> None:
        self._app_id = app_id
        self._jwks_url = jwks_url
        self._http = http
        self._client: jwt.PyJWKClient | None = None
        # kid -> (monotonic time the key set it came from expires, the parsed public key)
        self._signing_keys: dict[str, tuple[float, Any]] = {}

    def _jwks(self) -> jwt.PyJWKClient:
        if self._client is None:
            import jwt

            # The key set is cached for an hour, not each key forever: a key Forge withdraws stops being
            # accepted within the hour. An unknown kid refetches it at most once per JWKS_COOLDOWN_SECONDS
            # (the contract's limit), so made-up kids cannot make this function amplify traffic to the
            # JWKS; a key Forge starts using right after a fetch is accepted within that time.
            client = jwt.PyJWKClient(
                self._jwks_url,
                cache_keys=False,
                lifespan=JWKS_LIFESPAN_SECONDS,
                cooldown_duration=JWKS_COOLDOWN_SECONDS,
            )
            client.fetch_data = lambda: self._fetch(client)  # type: ignore[method-assign]
            self._client = client
        return self._client

    def _fetch(self, client: jwt.PyJWKClient) -> Any:
        """The key set, fetched as every outbound call is (one deadline for the whole exchange, within
        the request's budget, no redirect), in place of PyJWT's urllib fetch, which has no deadline.
        A key set that cannot be fetched is AtlassianUnavailable: the token's key cannot be told (2d)."""
        from jwt import jwks_client

        try:
            jwk_set = read_json(self._http.send("GET", self._jwks_url))
        except (AtlassianError, AtlassianUnavailable) as exc:
            logger.warning("The JWKS could not be fetched", extra={"reason": type(exc).__name__})
            raise AtlassianUnavailable(JWKS_UNAVAILABLE) from None
        # What PyJWT's own fetch_data does after a fetch (jwt 2.15): cache the set, start the cooldown.
        if client.jwk_set_cache is not None:
            client.jwk_set_cache.put(jwk_set)
        client._last_successful_fetch = jwks_client.time.monotonic()  # type: ignore[attr-defined]
        return jwk_set

    def _signing_key(self, kid: str) -> Any:
        """The public key of a kid, parsed once and kept for the lifespan of the key set it came from."""
        now = time.monotonic()
        cached = self._signing_keys.get(kid)
        if cached is not None and cached[0] > now:
            return cached[1]
        client = self._jwks()
        key = client.get_signing_key(kid).key
        fetched = client.jwk_set_cache.jwk_set_with_timestamp if client.jwk_set_cache else None
        until = (fetched.get_timestamp() if fetched else now) + JWKS_LIFESPAN_SECONDS
        self._signing_keys[kid] = (until, key)
        return key

    def verify(self, token: str) -> FitClaims:
        """Return the token's claims, or raise Unauthenticated for any flaw."""
        import jwt

        try:
            # The header only picks the key; jwt.decode checks everything again, strictly. PyJWT
            # validates a token's characters one by one in Python, so it parses the token once.
            header = _unverified_header(token)
            if header.get("alg") != "RS256":
                raise Unauthenticated()
            claims: dict[str, Any] = jwt.decode(
                token,
                self._signing_key(header["kid"]),
                algorithms=["RS256"],
                audience=self._app_id,
                issuer=FIT_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud"]},
            )
            return FitClaims.read(claims)
        except (jwt.PyJWTError, ValueError) as exc:
            logger.info("Forge Invocation Token refused", extra={"reason": type(exc).__name__})
            raise Unauthenticated() from None


def _unverified_header(token: str) -> dict[str, Any]:
    import jwt

    segment = token.partition(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error, RecursionError):
        # RecursionError: a header of deeply nested JSON (json's parser recurses once per level).
        raise jwt.DecodeError("Invalid header") from None
    if not isinstance(header, dict) or not isinstance(header.get("kid"), str):
        raise jwt.DecodeError("Invalid header")
    return header


class AdminCheck:
    """Asks Jira whether an account is an administrator, caching yes-answers for a short time."""

    def __init__(self, atlassian: AtlassianClient, ttl_seconds: int) -> None:
        self._atlassian = atlassian
        self._ttl = ttl_seconds
        self._granted: dict[tuple[str, str], float] = {}

    def require(
        self,
        *,
        tenant_id: str,
        account_id: str,
        api_base_url: str | None,
        system_token: str | None,
        app_gone_suffices: bool = False,
    ) -> None:
        """Raise Forbidden unless the account is a Jira administrator of the tenant's site.

        With `app_gone_suffices` (an uninstall sent by a user), Jira refusing the app's own system token
        is enough too: the app is no longer installed there, so nobody can be an administrator of it.
        """
        # The system token and an allowed API base URL are required on every request: the cache saves
        # the call to Jira, never these. A cached yes once let `.../ex/jira/\x01` through.
        if not system_token or not api_base_url:
            raise Forbidden()
        self._atlassian.transport.vet_url(api_base_url)  # UnsafeUrl: 403 (docs/API.md §1)
        key = (tenant_id, account_id)
        now = time.monotonic()
        if self._granted.get(key, 0.0) > now:
            return
        answer = self._atlassian.jira.admin_answer(
            api_base_url=api_base_url, system_token=system_token, account_id=account_id
        )
        if answer == "app_refused" and app_gone_suffices:
            return
        if answer != "administrator":
            raise Forbidden()
        self._granted[key] = now + self._ttl


def bearer_token(headers: dict[str, str]) -> str:
    """The token of an `Authorization: Bearer` header, or raise Unauthenticated."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    return token.strip()


def forge_caller(claims: FitClaims, *, require_principal: bool, system_token: str | None = None) -> Caller:
    """The caller described by a verified Forge Invocation Token."""
    if require_principal and not claims.principal:
        raise Unauthenticated()
    tenant = Tenant(
        installation_id=claims.installation_id, cloud_id=claims.cloud_id, site_url=claims.site_url
    )
    actor = Actor(type="atlassian", account_id=claims.principal) if require_principal else Actor(type="forge")
    return Caller(tenant=tenant, actor=actor, api_base_url=claims.api_base_url, system_token=system_token)
