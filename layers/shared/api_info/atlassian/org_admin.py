"""The organization admin API (`{ATLASSIAN_API_URL}/admin/v1`), authorised by an org Admin API key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from api_info.answers import clean_text
from api_info.atlassian.transport import Accepted, Refused, Transport, is_id, read_json
from api_info.errors import AtlassianError
from api_info.records import Organization

MAX_WORKSPACE_PAGES = 50  # 5,000 workspaces; a `next` that loops cannot spin past it


@dataclass(frozen=True)
class Workspace:
    """One of the organization's workspaces (a product's site): its id and its address."""

    id: str
    host_url: str | None


class OrgAdmin:
    """One method per call; each answers what Atlassian said, never what it means for a credential."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def organizations(self, api_key: str) -> list[Organization] | Refused:
        """GET /admin/v1/orgs: the organizations the key reaches (its first page), or Refused (401/403).
        An entry without a usable id is an unreadable answer (AtlassianError)."""
        answer = self._transport.send(
            "GET", f"{self._transport.api_url}/admin/v1/orgs", headers=_auth(api_key)
        )
        if answer.status_code in (401, 403):
            return Refused(answer.status_code)
        data = read_json(answer).get("data")
        if not isinstance(data, list):
            raise AtlassianError()
        return [_organization(entry) for entry in data]

    def probe_user_management(self, api_key: str, org_id: str) -> Accepted | Refused:
        """GET /admin/v1/orgs/{id}/users?limit=1: whether the key may use user management (401/403:
        Refused); any other failure raises the error it means."""
        url = f"{self._transport.api_url}/admin/v1/orgs/{quote(org_id, safe='')}/users?limit=1"
        answer = self._transport.send("GET", url, headers=_auth(api_key))
        if answer.status_code in (401, 403):
            return Refused(answer.status_code)
        read_json(answer)
        return Accepted()

    def find_workspace(
        self, api_key: str, org_id: str, wanted: Callable[[Workspace], bool]
    ) -> Workspace | Refused | None:
        """POST /admin/v2/orgs/{id}/workspaces, page after page: the first workspace `wanted`, None when no
        page holds one, or Refused (400, 401, 403, 404: the search could not be made)."""
        url = f"{self._transport.api_url}/admin/v2/orgs/{quote(org_id, safe='')}/workspaces"
        body: dict[str, Any] = {"limit": 100}
        for _ in range(MAX_WORKSPACE_PAGES):
            answer = self._transport.send("POST", url, headers=_auth(api_key), json=body)
            if answer.status_code in (400, 401, 403, 404):
                return Refused(answer.status_code)
            page = read_json(answer)
            data = page.get("data")
            if not isinstance(data, list):
                raise AtlassianError()
            found = next((w for w in map(_workspace, data) if w is not None and wanted(w)), None)
            if found is not None:
                return found
            links = page.get("links")
            following = links.get("next") if isinstance(links, dict) else None
            if not isinstance(following, str) or not following:
                return None
            body = {"cursor": following}
        raise AtlassianError()  # a search that does not end cannot tell


def same_site(url: str | None, other: str | None) -> bool:
    """Whether two site addresses name the same site: scheme and host compared case-insensitively."""
    if not url or not other:
        return False
    a, b = urlsplit(url.strip()), urlsplit(other.strip())
    return (a.scheme.lower(), (a.hostname or ""), a.port) == (b.scheme.lower(), (b.hostname or ""), b.port)


def _workspace(entry: Any) -> Workspace | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
        return None
    attributes = entry.get("attributes")
    host = attributes.get("hostUrl") if isinstance(attributes, dict) else None
    return Workspace(entry["id"], host if isinstance(host, str) else None)


def _auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}


def _organization(entry: Any) -> Organization:
    entry = entry if isinstance(entry, dict) else {}
    org_id = entry.get("id")
    if not is_id(org_id):
        raise AtlassianError()
    attributes = entry.get("attributes")
    name = attributes.get("name") if isinstance(attributes, dict) else None
    return Organization(id=org_id, name=clean_text(name))
