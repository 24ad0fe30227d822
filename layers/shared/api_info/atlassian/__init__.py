"""The Atlassian client: the only code that talks HTTP to Atlassian, one class per API it calls (the
organization admin API, API access, the Jira site's REST API) over one Transport. Nothing here imports
httpx until the first call."""

from __future__ import annotations

from typing import TYPE_CHECKING

from api_info.atlassian.api_access import ApiAccess, ApiKey, ApiToken, IncompleteListing
from api_info.atlassian.jira import NAME_LOOKUP_SECONDS, AdminAnswer, Jira, Myself
from api_info.atlassian.org_admin import OrgAdmin, Workspace, same_site
from api_info.atlassian.transport import (
    Accepted,
    Refused,
    Transport,
    deadline,
    header_safe,
    is_id,
    read_json,
    retry_after,
    together,
    within_deadline,
)
from api_info.settings import Settings

if TYPE_CHECKING:
    import httpx

__all__ = [
    "NAME_LOOKUP_SECONDS",
    "Accepted",
    "AdminAnswer",
    "ApiAccess",
    "ApiKey",
    "ApiToken",
    "AtlassianClient",
    "IncompleteListing",
    "Jira",
    "Myself",
    "OrgAdmin",
    "Refused",
    "Transport",
    "Workspace",
    "deadline",
    "header_safe",
    "is_id",
    "read_json",
    "retry_after",
    "same_site",
    "together",
    "within_deadline",
]


class AtlassianClient:
    """The three APIs over one transport. What their answers mean for a credential is its kind's
    (credentials/)."""

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self.transport = Transport(settings, http)
        self.org_admin = OrgAdmin(self.transport)
        self.api_access = ApiAccess(self.transport)
        self.jira = Jira(self.transport)
