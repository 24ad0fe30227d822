"""The API access API: an organization's listings of its users' API tokens and of its Admin API keys
(`GET {ATLASSIAN_API_URL}/admin/api-access/v1/orgs/{orgId}/api-tokens` and `.../api-keys`), authorised
by an org Admin API key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from api_info.atlassian.transport import Refused, Transport, read_json
from api_info.errors import AtlassianError

PAGE_LIMIT = 100  # the listing's largest page
MAX_PAGES = 50  # 5,000 tokens; a `next` that loops cannot spin past it (nor past the deadline)


class IncompleteListing(Exception):
    """The listing could not be read to its end; the message says why (never data of the answer)."""


@dataclass(frozen=True)
class ApiToken:
    """One listed token: its owner's account id, its status and its instants, each None when unreadable."""

    owner_id: str | None
    expires_at: datetime | None
    last_active_at: datetime | None
    status: str | None = None  # ALLOWED, REVOKED, BLOCKED...


@dataclass(frozen=True)
class ApiKey:
    """One listed Admin API key: its instants (None when unreadable), whether it has scopes, whether it
    was revoked."""

    expires_at: datetime | None
    last_active_at: datetime | None
    scoped: bool
    revoked: bool


class ApiAccess:
    """The organization's API tokens and Admin API keys, every page of them."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def api_tokens(self, api_key: str, org_id: str) -> list[ApiToken] | Refused:
        """Every token the organization lists (expired ones too), or Refused (401/403: 403 is a key with
        scopes). A listing that cannot be read to its end (a `next` link elsewhere, more than MAX_PAGES)
        is IncompleteListing: a later page could hold another token."""
        listed = self._every_page(api_key, org_id, "api-tokens")
        return listed if isinstance(listed, Refused) else [_token(item) for item in listed]

    def api_keys(self, api_key: str, org_id: str) -> list[ApiKey] | Refused:
        """Every Admin API key the organization lists (expired and revoked ones too), or Refused
        (401/403); IncompleteListing as for the tokens."""
        listed = self._every_page(api_key, org_id, "api-keys")
        return listed if isinstance(listed, Refused) else [_key(item) for item in listed]

    def _every_page(self, api_key: str, org_id: str, listing: str) -> list[dict[str, Any]] | Refused:
        api_url = self._transport.api_url
        first = f"{api_url}/admin/api-access/v1/orgs/{quote(org_id, safe='')}/{listing}"
        url: str = first
        params: dict[str, str] | None = {"limit": str(PAGE_LIMIT)}
        auth = {"Authorization": f"Bearer {api_key}"}
        found: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            answer = self._transport.send("GET", url, params=params, headers=auth)
            if answer.status_code in (401, 403):
                return Refused(answer.status_code)
            body = read_json(answer)
            data = body.get("data")
            if not isinstance(data, list):
                raise AtlassianError()
            found += [item for item in data if isinstance(item, dict)]
            links = body.get("links")
            following = links.get("next") if isinstance(links, dict) else None
            if not isinstance(following, str) or not following:
                return found
            url, params = self._next_page(first, following)
        raise IncompleteListing("the listing did not end within its page limit")

    def _next_page(self, first: str, following: str) -> tuple[str, dict[str, str] | None]:
        """Where `links.next` points: an opaque cursor is sent back as `cursor=`; an absolute URL is
        followed only on the host of ATLASSIAN_API_URL (the key goes with it)."""
        if "://" not in following:
            return first, {"limit": str(PAGE_LIMIT), "cursor": following}
        parts, home = urlsplit(following), urlsplit(self._transport.api_url)
        same_origin = (parts.scheme, parts.hostname, parts.port) == (home.scheme, home.hostname, home.port)
        if not same_origin:
            raise IncompleteListing("the listing's next page is on another host")
        self._transport.vet_url(
            parts._replace(query="").geturl()
        )  # the outbound rules, on all but the cursor
        return following, None  # its own query holds the cursor (httpx would drop it for params={})


def _token(item: dict[str, Any]) -> ApiToken:
    user = item.get("user")
    owner = user.get("id") if isinstance(user, dict) else None
    status = item.get("status")
    return ApiToken(
        owner if isinstance(owner, str) else None,
        _instant(item.get("expiresAt")),
        _instant(item.get("lastActiveAt")),
        status if isinstance(status, str) else None,
    )


def _key(item: dict[str, Any]) -> ApiKey:
    scopes = item.get("scopes")
    return ApiKey(
        _instant(item.get("expiresAt")),
        _instant(item.get("lastActiveAt")),
        scoped=bool(scopes) if isinstance(scopes, list) else scopes is not None,
        revoked=item.get("revocationDate") is not None or item.get("revokedBy") is not None,
    )


def _instant(value: Any) -> datetime | None:
    """An ISO 8601 instant of the listing (`2026-12-08T10:00:00.000Z`); a time without a zone is UTC."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
