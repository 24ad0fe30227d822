"""A credential's expiry, read from Atlassian (docs/API.md §4): the organization's listing of its users'
API tokens, or of its Admin API keys (API Access REST API), authorised by the tenant's org Admin API key.

Best effort: every failure is logged with a reason (never the key, an email or a name) and learns
nothing; nothing here raises into a change or a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import SecretStr

from api_info.atlassian import AtlassianClient, IncompleteListing, Refused, deadline
from api_info.errors import AtlassianError, AtlassianUnavailable, UnsafeUrl
from api_info.observability import logger
from api_info.records import CredentialRecord
from api_info.settings import Settings

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
        api_key=api_key,
        org_id=key.organization.id,
        account_id=account_id,
        seconds=limit if seconds is None else min(limit, seconds),
    )


def token_expiry(
    client: AtlassianClient,
    *,
    api_key: str,
    org_id: str,
    account_id: str,
    seconds: float,
    now: datetime | None = None,
) -> str | None:
    """The expiry date (YYYY-MM-DD, UTC) of the account's API token as the organization lists it, or
    None when it cannot be told (see `pick`); the whole listing within one deadline of `seconds`."""
    return _learnt("token", lambda: _owner_tokens(client, api_key, org_id, account_id), seconds, now)


def key_expiry(
    client: AtlassianClient, *, api_key: str, org_id: str, seconds: float, now: datetime | None = None
) -> str | None:
    """The expiry date of the organization's Admin API key in use, as the organization lists its keys
    (those with no scopes and not revoked are candidates, chosen as `pick` says), or None."""
    return _learnt("key", lambda: _live_keys(client, api_key, org_id), seconds, now)


def _learnt(
    what: str, listing: Callable[[], list[Listed]], seconds: float, now: datetime | None
) -> str | None:
    """The date `pick` chooses among the listing's live entries, or None, logged with the reason."""
    try:
        if seconds <= 0:
            raise NotLearnt("no time left")
        with deadline(seconds):
            listed = listing()
        when = now or datetime.now(UTC)
        expires = pick([t for t in listed if t.expires_at > when], when)
    except (NotLearnt, IncompleteListing) as exc:
        logger.info(f"The {what}'s expiry was not learnt from Atlassian", extra={"reason": str(exc)})
        return None
    except (AtlassianError, AtlassianUnavailable, UnsafeUrl) as exc:
        reason = type(exc).__name__
        logger.info(f"The {what}'s expiry was not learnt from Atlassian", extra={"reason": reason})
        return None
    except Exception:  # best effort: a surprise must not fail the change or check around it
        logger.exception(f"Reading the {what}'s expiry from Atlassian failed")
        return None
    logger.info(f"The {what}'s expiry was learnt from Atlassian", extra={"expiresOn": expires})
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


def _owner_tokens(client: AtlassianClient, api_key: str, org_id: str, account_id: str) -> list[Listed]:
    """The account's tokens with a readable expiry (expired ones too), over every page of the listing."""
    listed = client.api_access.api_tokens(api_key, org_id)
    if isinstance(listed, Refused):
        # 403: a key with scopes, which may not list tokens.
        raise NotLearnt(f"the key may not list the organization's tokens ({listed.status})")
    # Only a token Atlassian allows counts: a revoked or blocked one is never the one in use.
    return [
        Listed(t.expires_at, t.last_active_at)
        for t in listed
        if t.owner_id == account_id and t.expires_at is not None and t.status in (None, "ALLOWED")
    ]


def _live_keys(client: AtlassianClient, api_key: str, org_id: str) -> list[Listed]:
    """The organization's keys that could be the one in use: no scopes, not revoked, a readable expiry."""
    listed = client.api_access.api_keys(api_key, org_id)
    if isinstance(listed, Refused):
        raise NotLearnt(f"the key may not list the organization's keys ({listed.status})")
    return [
        Listed(k.expires_at, k.last_active_at)
        for k in listed
        if k.expires_at is not None and not k.scoped and not k.revoked
    ]
