"""The simulator's organization listing of user API tokens (Atlassian's API Access REST API, v1).

`GET /admin/api-access/v1/orgs/{orgId}/api-tokens`: each token with its owner, `expiresAt` and
`lastActiveAt`, paged with an opaque cursor in `links.next`. Times are relative to the moment of the
request, so that each case (docs/LOCAL_STACK.md) stays true whenever it runs. The organization's
listing of API keys (local/sim_orgs.py) pages the same way.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

Answer = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class SimListedToken:
    """One user API token as the organization's api-tokens listing shows it; times relative to now."""

    id: str
    label: str
    account_id: str
    name: str
    email: str
    created_days_ago: int
    expires_in_days: float  # negative: expired
    last_active_hours_ago: float | None  # None: never used
    # ALLOWED, REVOKED, BLOCKED (or EXPIRED) as a test sets it; None: ALLOWED until expiresAt, then EXPIRED.
    status: str | None = None


def default_listed_tokens() -> list[SimListedToken]:
    """The listing's cases: Eve's single token, Max's several (one just used, on page 2), Tia's tie,
    Rex's one allowed token beside a revoked and a blocked one used since."""
    eve = ("sim-account-eve", "Eve Expiring", "eve@acme.test")
    max_ = ("sim-account-max", "Max Many", "max@acme.test")
    tia = ("sim-account-tia", "Tia Tied", "tia@acme.test")
    rex = ("sim-account-rex", "Rex Revoked", "rex@acme.test")
    # Other managed accounts' tokens, so that the listing takes more than one page at the default limit.
    others = [
        SimListedToken(
            f"tok-staff-{i:02}",
            f"staff script {i}",
            f"sim-account-staff-{i:02}",
            f"Staff {i:02}",
            f"staff{i:02}@acme.test",
            created_days_ago=100 + i,
            expires_in_days=200 + i,
            last_active_hours_ago=30.0 + i,
        )
        for i in range(1, 23)
    ]
    return [
        SimListedToken("tok-eve-1", "jira sync", *eve, 359, 6.5, 2.0),
        *others[:10],
        # Max: an expired token, two older ones and, on the second page, the one just used.
        SimListedToken("tok-max-old", "retired", *max_, 400, -35, 900.0),
        SimListedToken("tok-max-1", "backup job", *max_, 200, 160, 72.0),
        SimListedToken("tok-max-2", "reporting", *max_, 90, 40, None),
        *others[10:],
        SimListedToken("tok-max-3", "api-info", *max_, 20, 12.5, 0.5),
        # Tia: two tokens, neither used within the last 24 h, so neither is the one in use.
        SimListedToken("tok-tia-1", "ci", *tia, 50, 20, 30.0),
        SimListedToken("tok-tia-2", "laptop", *tia, 40, 25, 30.0),
        # Rex: the live token used last is revoked, the next blocked; only the older one is allowed.
        SimListedToken("tok-rex-1", "api-info", *rex, 320, 45, 30.0),
        SimListedToken("tok-rex-2", "leaked", *rex, 10, 90, 1.0, status="REVOKED"),
        SimListedToken("tok-rex-3", "suspicious", *rex, 5, 120, 2.0, status="BLOCKED"),
    ]


API_TOKENS_DEFAULT_LIMIT = 20
API_TOKENS_MAX_LIMIT = 100


def iso(moment: datetime) -> str:
    """A time as Atlassian's API Access answers write it: UTC, milliseconds, Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    head, _, number = text.partition(":")
    return int(number) if head == "offset" and number.isdigit() else None


def paging(query: dict[str, list[str]]) -> tuple[int, int] | None:
    """The (offset, limit) a listing's `limit` and `cursor` query parameters ask for; None when invalid."""
    raw_limit = (query.get("limit") or [str(API_TOKENS_DEFAULT_LIMIT)])[0]
    cursors = query.get("cursor")
    offset = 0 if not cursors else _offset(cursors[0])
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= API_TOKENS_MAX_LIMIT or offset is None:
        return None
    return offset, int(raw_limit)


BAD_PAGING: Answer = (400, {"code": 400, "message": "Invalid limit or cursor"}, {})


def page_of(
    rows: list[dict[str, Any]], offset: int, limit: int, path: str, next_origin: str | None = None
) -> Answer:
    """One page of an API Access listing: `links.next` a bare cursor, or with `next_origin` an absolute
    URL of `path` carrying it."""
    links: dict[str, str | None] = {"self": _cursor(offset), "next": None, "prev": None}
    if offset + limit < len(rows):
        links["next"] = _cursor(offset + limit)
        if next_origin is not None:
            links["next"] = f"{next_origin}{path}?{urlencode({'limit': limit, 'cursor': links['next']})}"
    if offset > 0:
        links["prev"] = _cursor(max(0, offset - limit))
    return 200, {"data": rows[offset : offset + limit], "links": links}, {}


def token_status(token: SimListedToken, expires: datetime, now: datetime) -> str:
    """The status a test gave the token, else ALLOWED until it expires, then EXPIRED."""
    if token.status is not None:
        return token.status
    return "ALLOWED" if expires > now else "EXPIRED"


def api_tokens_page(
    listed: list[SimListedToken], org_id: str, query: dict[str, list[str]], next_origin: str | None = None
) -> Answer:
    """One page of the organization's user API tokens, filtered by `q` and `status`, paged by cursor
    (`links.next` a bare cursor, or with `next_origin` an absolute URL carrying it)."""
    if (position := paging(query)) is None:
        return BAD_PAGING
    now = datetime.now(UTC)
    wanted_q = (query.get("q") or [""])[0].lower()
    wanted_status = (query.get("status") or [""])[0].upper()
    rows = []
    for t in listed:
        expires = now + timedelta(days=t.expires_in_days)
        status = token_status(t, expires, now)
        if wanted_q and not any(wanted_q in v.lower() for v in (t.label, t.name, t.email)):
            continue
        if wanted_status and status != wanted_status:
            continue
        last = None if t.last_active_hours_ago is None else now - timedelta(hours=t.last_active_hours_ago)
        rows.append(
            {
                "id": t.id,
                "label": t.label,
                "status": status,
                "createdAt": iso(now - timedelta(days=t.created_days_ago)),
                "expiresAt": iso(expires),
                "lastActiveAt": None if last is None else iso(last),
                "user": {"id": t.account_id, "orgId": org_id, "name": t.name, "email": t.email},
            }
        )
    return page_of(rows, *position, f"/admin/api-access/v1/orgs/{org_id}/api-tokens", next_origin)
