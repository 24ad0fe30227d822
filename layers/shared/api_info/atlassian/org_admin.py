"""The organization admin API (`{ATLASSIAN_API_URL}/admin/v1`), authorised by an org Admin API key."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from api_info.answers import clean_text
from api_info.atlassian.transport import Accepted, Refused, Transport, is_id, read_json
from api_info.errors import AtlassianError
from api_info.models import Organization


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
