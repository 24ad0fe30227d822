"""The simulator's organizations: the sites each holds, and its listing of Admin API keys.

`POST /admin/v2/orgs/{orgId}/workspaces` (Atlassian's Organizations REST API, v2) answers the
organization's workspaces, paged by a cursor sent back in the body. An organization nobody configured
holds one workspace: the simulated Jira site itself, at the simulator's own URL (the `siteUrl` the local
stack and the tests give every installation) with the cloudId the development issuer gives the
installation "acme"; Globex (simulated) holds its own sites only.

`GET /admin/api-access/v1/orgs/{orgId}/api-keys` (the API Access REST API, v1) lists the organization's
Admin API keys: the keys the simulator knows of that organization (revoked ones included) and the rows a
test adds, with expiry, last use, scopes and revocation, paged as the api-tokens listing is. A key given
no expiry is listed with `expiresAt: null`, so that nothing is learnt from it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from local.dev_issuer import installation
from local.sim_api_tokens import BAD_PAGING, iso, page_of, paging
from local.sim_credentials import (
    ADMIN_ACCOUNT,
    DATED_ORG_ID,
    DISPLAY_NAMES,
    OTHER_ORG_ID,
    Moment,
    SimKey,
)

Answer = tuple[int, Any, dict[str, str]]

WORKSPACES_DEFAULT_LIMIT = 20
WORKSPACES_MAX_LIMIT = 100
# The most workspaces (keys) a page holds whatever the limit asked; tests set it small to see several pages.
WORKSPACE_PAGE_SIZE = 100
KEY_PAGE_SIZE = 100
# The installation whose cloudId the simulated site has (the default of /dev/token and of the tests).
SIM_SITE_ID = installation("acme")["cloudId"]
SCOPES = ["read:workspaces:admin", "read:directories:admin"]
CREATOR = {"id": ADMIN_ACCOUNT, "name": DISPLAY_NAMES[ADMIN_ACCOUNT], "email": "sam@acme.test"}


@dataclass(frozen=True)
class SimWorkspace:
    """One product workspace (site) of an organization: its id is `ari:cloud:<type_key>::site/<site_id>`."""

    site_id: str  # the site's cloudId
    name: str
    host_url: str | None  # None: the simulated site, at the simulator's own URL
    type_key: str = "jira"
    status: str = "online"


def sim_site() -> SimWorkspace:
    """The simulated Jira site, as the workspace search shows it."""
    return SimWorkspace(SIM_SITE_ID, "acme (simulated)", None)


def default_workspaces() -> dict[str, list[SimWorkspace]]:
    """The organizations whose sites are configured: Globex's, which do not include the simulated site."""
    globex = "https://globex.atlassian.net"
    return {
        OTHER_ORG_ID: [
            SimWorkspace("6a1f3c52-0b8e-4d47-9c2a-5e7b1d904f31", "globex", globex),
            SimWorkspace("6a1f3c52-0b8e-4d47-9c2a-5e7b1d904f31", "globex", globex, type_key="confluence"),
            SimWorkspace(
                "c3e9a7d4-21f6-4b58-8e0d-9a4b6c2f7e15",
                "globex-sandbox",
                "https://globex-sandbox.atlassian.net",
            ),
        ]
    }


@dataclass(frozen=True)
class SimListedKey:
    """One Admin API key as the organization's api-keys listing shows it (not necessarily a credential)."""

    label: str
    expires_at: Moment = None  # None: listed with no expiresAt
    last_active_at: Moment = None
    scoped: bool = False
    revoked: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


def listed(key: SimKey) -> SimListedKey:
    """How the listing shows a key the simulator accepts (or refuses as revoked)."""
    return SimListedKey(key.label, key.expires_at, key.last_active_at, key.scoped, key.revoked, key.id)


def default_listed_keys() -> dict[str, list[SimListedKey]]:
    """Rows beside the accepted keys: in Initech's listing a key with scopes, used after EXP20."""
    reporting = SimListedKey(
        "reporting", timedelta(days=300), -timedelta(minutes=10), scoped=True, id="key-initech-reporting"
    )
    return {DATED_ORG_ID: [reporting]}


@dataclass
class SimOrgs:
    """The organizations' sites and the rows their api-keys listings show besides their keys, as tests
    set them (`AtlassianSimulator.orgs`; its reset() puts the defaults back)."""

    # An organization absent from here holds the simulated site alone.
    workspaces: dict[str, list[SimWorkspace]] = field(default_factory=default_workspaces)
    workspace_page_size: int = WORKSPACE_PAGE_SIZE  # the most workspaces on one page
    listed_keys: dict[str, list[SimListedKey]] = field(default_factory=default_listed_keys)
    key_page_size: int = KEY_PAGE_SIZE  # the most keys on one page of the api-keys listing
    next_origin: str | None = None  # when set, the api-keys listing's `links.next` is a URL on it

    def set_workspaces(self, org_id: str, workspaces: list[SimWorkspace]) -> None:
        """The sites the organization holds, in the search's order (`sim_site()`: the simulated one)."""
        self.workspaces[org_id] = list(workspaces)

    def add_listed_key(
        self,
        org_id: str,
        label: str = "Admin API key",
        *,
        expires_at: Moment = None,
        last_active_at: Moment = None,
        scoped: bool = False,
        revoked: bool = False,
    ) -> str:
        """List one more key in the organization's api-keys listing (a row only: no credential the
        simulator accepts); returns its listed id."""
        row = SimListedKey(label, expires_at, last_active_at, scoped, revoked)
        self.listed_keys.setdefault(org_id, []).append(row)
        return row.id

    def workspaces_of(self, org_id: str) -> list[SimWorkspace]:
        """What the workspace search finds in the organization."""
        return self.workspaces[org_id] if org_id in self.workspaces else [sim_site()]

    def listed_keys_of(self, org_id: str, keys: Mapping[str, SimKey]) -> list[SimListedKey]:
        """The organization's api-keys listing: the keys of it (revoked ones too), then the rows added."""
        own = [listed(key) for key in keys.values() if key.org_id == org_id]
        return own + self.listed_keys.get(org_id, [])

    def api_keys(self, org_id: str, keys: Mapping[str, SimKey], query: dict[str, list[str]]) -> Answer:
        """The answer to GET .../api-keys for a key that may read it."""
        rows = self.listed_keys_of(org_id, keys)
        return api_keys_page(rows, org_id, query, self.key_page_size, self.next_origin)

    def search_workspaces(self, org_id: str, own_url: str, body: bytes) -> Answer:
        """The answer to POST /admin/v2/orgs/{orgId}/workspaces for a key that may search."""
        return workspaces_page(self.workspaces_of(org_id), own_url, body, self.workspace_page_size)


def _at(moment: Moment, now: datetime) -> datetime | None:
    if isinstance(moment, timedelta):
        return now + moment
    return moment


def _key_row(key: SimListedKey, now: datetime) -> dict[str, Any]:
    expires, last = _at(key.expires_at, now), _at(key.last_active_at, now)
    # Atlassian's keys last at most a year: created a year before they expire (or a month ago);
    # a revoked key was revoked after its last use (or five minutes ago).
    created = now - timedelta(days=30) if expires is None else expires - timedelta(days=365)
    revoked_at = now - timedelta(minutes=5) if last is None else max(now - timedelta(minutes=5), last)
    return {
        "id": key.id,
        "label": key.label,
        "createdAt": iso(min(created, now)),
        "expiresAt": None if expires is None else iso(expires),
        "lastActiveAt": None if last is None else iso(last),
        "createdBy": CREATOR,
        "scopes": SCOPES if key.scoped else [],
        "revokedBy": CREATOR if key.revoked else None,
        "revocationDate": iso(min(revoked_at, now)) if key.revoked else None,
    }


def api_keys_page(
    keys: list[SimListedKey],
    org_id: str,
    query: dict[str, list[str]],
    page_size: int = KEY_PAGE_SIZE,
    next_origin: str | None = None,
) -> Answer:
    """One page of the organization's Admin API keys, paged by `limit` (at most `page_size`) and `cursor`
    as the api-tokens listing is (`links.next` a cursor, or with `next_origin` a URL carrying it)."""
    if (position := paging(query)) is None:
        return BAD_PAGING
    offset, limit = position
    now = datetime.now(UTC)
    rows = [_key_row(key, now) for key in keys]
    path = f"/admin/api-access/v1/orgs/{org_id}/api-keys"
    return page_of(rows, offset, max(1, min(limit, page_size)), path, next_origin)


def _cursor(offset: int, limit: int) -> str:
    return base64.urlsafe_b64encode(f"workspaces:{offset}:{limit}".encode()).decode().rstrip("=")


def _position(cursor: object) -> tuple[int, int] | None:
    if not isinstance(cursor, str):
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    head, _, rest = text.partition(":")
    offset, _, limit = rest.partition(":")
    if head != "workspaces" or not offset.isdigit() or not limit.isdigit():
        return None
    return int(offset), int(limit)


def _asked(body: bytes) -> tuple[int, int] | None:
    """The (offset, limit) a search body asks for: `{"limit": n}` first, then `{"cursor": c}` alone."""
    try:
        asked = json.loads(body or b"{}")
    except ValueError:
        return None
    if not isinstance(asked, dict):
        return None
    if "cursor" in asked:
        # Atlassian: when a cursor is provided in the request body, no other properties may be present.
        return _position(asked["cursor"]) if len(asked) == 1 else None
    limit = asked.get("limit", WORKSPACES_DEFAULT_LIMIT)
    if type(limit) is not int or not 1 <= limit <= WORKSPACES_MAX_LIMIT:
        return None
    return 0, limit


def workspaces_page(workspaces: list[SimWorkspace], own_url: str, body: bytes, page_size: int) -> Answer:
    """One page of the search's answer: at most `limit` workspaces, and never more than `page_size`."""
    if (position := _asked(body)) is None:
        return 400, {"code": 400, "message": "Invalid request body: limit 1..100, or a cursor alone"}, {}
    offset, limit = position
    size = max(1, min(limit, page_size))
    rows = [
        {
            "id": f"ari:cloud:{w.type_key}::site/{w.site_id}",
            "type": "workspaces",
            "attributes": {
                "name": w.name,
                "typeKey": w.type_key,
                "type": "product",
                "hostUrl": w.host_url or own_url,
                "status": w.status,
            },
        }
        for w in workspaces
    ]
    links: dict[str, str | None] = {"self": _cursor(offset, limit), "next": None, "prev": None}
    if offset + size < len(rows):
        links["next"] = _cursor(offset + size, limit)
    if offset > 0:
        links["prev"] = _cursor(max(0, offset - size), limit)
    page = rows[offset : offset + size]
    meta = {"pageSize": size, "startIndex": offset, "endIndex": offset + len(page), "total": len(rows)}
    return 200, {"data": page, "links": links, "meta": meta}, {}
