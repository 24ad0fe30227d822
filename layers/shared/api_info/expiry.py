"""A user API token's expiry, read from Atlassian (docs/API.md §4): the organization's listing of its
users' API tokens (API Access REST API), authorised by the tenant's org Admin API key.

Best effort: every failure is logged with a reason (never the key, an email or a name) and learns
nothing; nothing here raises into a change or a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import SecretStr

from api_info.atlassian import AtlassianClient, deadline, read_json
from api_info.errors import AtlassianError, AtlassianUnavailable, UnsafeUrl
from api_info.models import CredentialRecord
from api_info.observability import logger
from api_info.settings import Settings

PAGE_LIMIT = 100  # the listing's largest page
MAX_PAGES = 50  # 5,000 tokens; a `next` that loops cannot spin past it (nor past the deadline)
RECENT_USE = timedelta(hours=24)  # "the one in use": the owner's token last active within this


class NotLearnt(Exception):
    """Why no date was learnt: a reason for the log, never data of the answer."""


@dataclass(frozen=True)
class Listed:
    """One listed token of the owner: when it expires and when it was last used."""

    expires_at: datetime
    last_active_at: datetime | None


def learn_token_expiry(
    client: AtlassianClient,
    settings: Settings,
    key: CredentialRecord | None,
    read_key: Callable[[CredentialRecord], SecretStr],
    account_id: str,
    seconds: float | None = None,
) -> str | None:
    """The token's expiry, when the tenant holds a valid org Admin API key with its organization (read
    with `read_key` only then); else None. Within `seconds`, at most ATLASSIAN_TIMEOUT_SECONDS."""
    if key is None or key.status != "valid" or key.organization is None:
        logger.info("The token's expiry was not looked up", extra={"reason": "no valid API key"})
        return None
    if seconds is not None and seconds <= 0:  # the invocation's time is short: the key is not even read
        logger.info("The token's expiry was not looked up", extra={"reason": "no time left"})
        return None
    try:
        api_key = read_key(key).get_secret_value()
    except Exception:  # best effort: an AWS failure here must not fail the change or check around it
        logger.exception("Could not read the API key to look the token's expiry up")
        return None
    limit = settings.atlassian_timeout_seconds
    return token_expiry(
        client,
        settings.atlassian_api_url,
        api_key=api_key,
        org_id=key.organization.id,
        account_id=account_id,
        seconds=limit if seconds is None else min(limit, seconds),
    )


def token_expiry(
    client: AtlassianClient,
    api_url: str,
    *,
    api_key: str,
    org_id: str,
    account_id: str,
    seconds: float,
    now: datetime | None = None,
) -> str | None:
    """The expiry date (YYYY-MM-DD, UTC) of the account's API token as the organization lists it, or
    None when it cannot be told (see `pick`); the whole listing within one deadline of `seconds`."""
    try:
        if seconds <= 0:
            raise NotLearnt("no time left")
        with deadline(seconds):
            listed = _owner_tokens(client, api_url.rstrip("/"), api_key, org_id, account_id)
        when = now or datetime.now(UTC)
        expires = pick([t for t in listed if t.expires_at > when], when)
    except NotLearnt as exc:
        logger.info("The token's expiry was not learnt from Atlassian", extra={"reason": str(exc)})
        return None
    except (AtlassianError, AtlassianUnavailable, UnsafeUrl) as exc:
        logger.info("The token's expiry was not learnt from Atlassian", extra={"reason": type(exc).__name__})
        return None
    except Exception:  # best effort: a surprise must not fail the change or check around it
        logger.exception("Reading the token's expiry from Atlassian failed")
        return None
    logger.info("The token's expiry was learnt from Atlassian", extra={"expiresOn": expires})
    return expires


def pick(live: list[Listed], now: datetime) -> str:
    """The contract's match among the owner's live tokens: the only one, or the one used last if that
    was within RECENT_USE and strictly later than every other's; else NotLearnt."""
    if not live:
        raise NotLearnt("the account has no live token in the organization's listing")
    chosen = live[0]
    if len(live) > 1:
        used = sorted(live, key=lambda t: t.last_active_at or datetime.min.replace(tzinfo=UTC), reverse=True)
        chosen, runner_up = used[0], used[1]
        last = chosen.last_active_at
        if last is None or last < now - RECENT_USE:
            raise NotLearnt("several live tokens, none used within 24 h")
        if runner_up.last_active_at is not None and runner_up.last_active_at >= last:
            raise NotLearnt("several live tokens, none used strictly last")
    return chosen.expires_at.astimezone(UTC).date().isoformat()


def _owner_tokens(
    client: AtlassianClient, api_url: str, api_key: str, org_id: str, account_id: str
) -> list[Listed]:
    """The account's tokens (expired ones too) over every page of the listing. An incomplete listing
    (a `next` link elsewhere, or too many pages) learns nothing: a later page could hold another."""
    first = f"{api_url}/admin/api-access/v1/orgs/{quote(org_id, safe='')}/api-tokens"
    url: str = first
    params: dict[str, str] | None = {"limit": str(PAGE_LIMIT)}
    auth = {"Authorization": f"Bearer {api_key}"}
    found: list[Listed] = []
    for _ in range(MAX_PAGES):
        answer = client.send("GET", url, params=params, headers=auth)
        if answer.status_code in (401, 403):
            # 403: a key with scopes, which may not list tokens.
            raise NotLearnt(f"the key may not list the organization's tokens ({answer.status_code})")
        body = read_json(answer)
        data = body.get("data")
        if not isinstance(data, list):
            raise AtlassianError()
        found += [t for t in (_owned(item, account_id) for item in data) if t is not None]
        links = body.get("links")
        following = links.get("next") if isinstance(links, dict) else None
        if not isinstance(following, str) or not following:
            return found
        url, params = _next_page(client, api_url, first, following)
    raise NotLearnt("the listing did not end within its page limit")


def _next_page(
    client: AtlassianClient, api_url: str, first: str, following: str
) -> tuple[str, dict[str, str] | None]:
    """Where `links.next` points: an opaque cursor is sent back as `cursor=`; an absolute URL is
    followed only on the host of ATLASSIAN_API_URL (the key goes with it)."""
    if "://" not in following:
        return first, {"limit": str(PAGE_LIMIT), "cursor": following}
    parts, home = urlsplit(following), urlsplit(api_url)
    same_origin = (parts.scheme, parts.hostname, parts.port) == (home.scheme, home.hostname, home.port)
    if not same_origin:
        raise NotLearnt("the listing's next page is on another host")
    client.vet_url(parts._replace(query="").geturl())  # the outbound rules, on all but the cursor
    return following, None  # its own query holds the cursor (httpx would drop it for params={})


def _owned(item: Any, account_id: str) -> Listed | None:
    """A listed token of the account, or None (another owner's, or no readable expiry)."""
    if not isinstance(item, dict):
        return None
    user = item.get("user")
    if not isinstance(user, dict) or user.get("id") != account_id:
        return None
    expires = _instant(item.get("expiresAt"))
    return None if expires is None else Listed(expires, _instant(item.get("lastActiveAt")))


def _instant(value: Any) -> datetime | None:
    """An ISO 8601 instant of the listing (`2026-12-08T10:00:00.000Z`); a time without a zone is UTC."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
