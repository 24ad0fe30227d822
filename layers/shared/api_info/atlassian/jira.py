"""The Jira site's REST API (`/rest/api/3`), on the site itself or through Atlassian's API gateway."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from api_info.answers import clean_text
from api_info.atlassian.transport import (
    Accepted,
    Refused,
    Transport,
    deadline,
    header_safe,
    is_id,
    read_json,
)
from api_info.errors import AtlassianError, AtlassianUnavailable, UnsafeUrl
from api_info.observability import logger
from api_info.records import Account

AdminAnswer = Literal["administrator", "no", "app_refused"]
NAME_LOOKUP_SECONDS = 2.0  # the contract's deadline for the saving administrator's display name


@dataclass(frozen=True)
class Myself:
    """Who Jira says the credential belongs to: `active` is False only when Jira says so."""

    account: Account
    active: bool
    email_address: str | None


class Jira:
    """One method per call; the two `myself` calls answer what Jira said, never what it means."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def myself(self, site_url: str, email: str, api_token: str) -> Myself | Refused:
        """GET {site}/rest/api/3/myself with basic auth. Refused for 401/403, and for a 200 that Jira
        marks AUTHENTICATED_FAILED (served anonymously); UnsafeUrl for a site we never call."""
        import httpx

        site = self._transport.vet_url(site_url)
        auth = httpx.BasicAuth(email, api_token)
        answer = self._transport.send("GET", f"{site}/rest/api/3/myself", auth=auth)
        refused = "AUTHENTICATED_FAILED" in answer.headers.get("x-seraph-loginreason", "")
        if answer.status_code in (401, 403) or (answer.status_code == 200 and refused):
            return Refused(answer.status_code)
        me = read_json(answer)  # raises the right error for 5xx, 429 and other surprises
        account_id = me.get("accountId")
        if not is_id(account_id):
            raise AtlassianError()
        address = me.get("emailAddress")
        return Myself(
            Account(account_id=account_id, display_name=clean_text(me.get("displayName"))),
            active=me.get("active") is not False,
            email_address=address if isinstance(address, str) else None,
        )

    def myself_through_gateway(self, cloud_id: str, email: str, api_token: str) -> Accepted | Refused:
        """GET {ATLASSIAN_API_URL}/ex/jira/{cloudId}/rest/api/3/myself with basic auth, which only a
        scoped token passes: Accepted on 200, Refused on any other 4xx; 429 and 5xx raise."""
        import httpx

        url = f"{self._transport.api_url}/ex/jira/{quote(cloud_id, safe='')}/rest/api/3/myself"
        answer = self._transport.send("GET", url, auth=httpx.BasicAuth(email, api_token))
        if answer.status_code == 200:
            return Accepted()
        if answer.status_code >= 500 or answer.status_code == 429:
            read_json(answer)
        return Refused(answer.status_code)

    def admin_answer(self, *, api_base_url: str, system_token: str, account_id: str) -> AdminAnswer:
        """Ask Jira whether the account holds the global ADMINISTER permission.

        "app_refused" when Jira refuses the app's system token itself (401/403: the app is no longer
        installed); any other doubt (an error, an unreadable answer, a URL we never call) is "no".
        """
        if not header_safe(system_token):
            logger.warning("Administrator check failed closed", extra={"reason": "UnsendableSystemToken"})
            return "no"
        try:
            base = self._transport.vet_url(api_base_url)
            answer = self._transport.send(
                "POST",
                f"{base}/rest/api/3/permissions/check",
                headers={"Authorization": f"Bearer {system_token}"},
                json={"accountId": account_id, "globalPermissions": ["ADMINISTER"]},
            )
            if answer.status_code in (401, 403):
                return "app_refused"
            granted = read_json(answer).get("globalPermissions")
        except (AtlassianError, AtlassianUnavailable, UnsafeUrl) as exc:
            logger.warning("Administrator check failed closed", extra={"reason": type(exc).__name__})
            return "no"
        return "administrator" if isinstance(granted, list) and "ADMINISTER" in granted else "no"

    def display_name(self, *, api_base_url: str, system_token: str, account_id: str) -> str | None:
        """The account's Jira display name, or None: a best effort within NAME_LOOKUP_SECONDS."""
        if not header_safe(system_token):
            return None
        try:
            base = self._transport.vet_url(api_base_url)
            with deadline(NAME_LOOKUP_SECONDS):
                answer = self._transport.send(
                    "GET",
                    f"{base}/rest/api/3/user",
                    params={"accountId": account_id},
                    headers={"Authorization": f"Bearer {system_token}"},
                )
            name = read_json(answer).get("displayName")
        except (AtlassianError, AtlassianUnavailable, UnsafeUrl) as exc:
            logger.info("The display name was not looked up", extra={"reason": type(exc).__name__})
            return None
        return clean_text(name)
