"""The Atlassian client's APIs answer what Atlassian said, as plain results, and make only the calls
their answers call for (httpx's mock transport, no network)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from api_info.atlassian import Accepted, AtlassianClient, Myself, Refused, same_site
from api_info.credentials import API_KEY, API_TOKEN
from api_info.credentials.kind import Facts, Validation
from api_info.errors import AtlassianError, AtlassianUnavailable, CredentialRejected
from api_info.records import Tenant
from api_info.settings import Settings

SITE = "https://acme.atlassian.net"
SITE_MYSELF = "acme.atlassian.net/rest/api/3/myself"
ORGS = {"data": [{"id": "org-1", "attributes": {"name": "Acme"}}]}
ME = {"accountId": "acc-1", "displayName": "Ada", "emailAddress": "ada@acme.test"}


def client(answer: Callable[[httpx.Request], httpx.Response], seen: list[str]) -> AtlassianClient:
    def record(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host}{request.url.path}")
        return answer(request)

    settings = Settings(forge_app_id="x", atlassian_api_url="https://api.atlassian.com")
    return AtlassianClient(settings, http=httpx.Client(transport=httpx.MockTransport(record)))


TENANT = Tenant(installation_id="t-1", cloud_id="c-1", site_url=SITE)


def validate_token(atlassian: AtlassianClient, token: str) -> Facts:
    secret = {"email": SecretStr("ada@acme.test"), API_TOKEN.name: SecretStr(token)}
    return API_TOKEN.validate(Validation(atlassian, TENANT, secret))


def test_the_user_management_probe_reports_a_403_as_refused_and_the_key_as_one_with_scopes() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403 if request.url.path.endswith("/users") else 200, json=ORGS)

    seen: list[str] = []
    atlassian = client(answer, seen)

    assert atlassian.org_admin.probe_user_management("key", "org-1") == Refused(403)
    with pytest.raises(CredentialRejected) as rejected:
        API_KEY.validate(Validation(atlassian, TENANT, {API_KEY.name: SecretStr("key")}))
    assert rejected.value.code == "api_key_has_scopes"


def test_the_organizations_are_read_and_an_unusable_id_is_an_unreadable_answer() -> None:
    seen: list[str] = []
    organizations = client(lambda _: httpx.Response(200, json=ORGS), seen).org_admin.organizations("key")
    assert isinstance(organizations, list)
    assert [(o.id, o.name) for o in organizations] == [("org-1", "Acme")]

    broken = client(lambda _: httpx.Response(200, json={"data": [{"id": " "}]}), seen)
    with pytest.raises(AtlassianError):
        broken.org_admin.organizations("key")


def test_the_gateway_is_asked_only_when_the_site_refused_the_token() -> None:
    seen: list[str] = []
    atlassian = client(lambda _: httpx.Response(200, json=ME), seen)

    me = atlassian.jira.myself(SITE, "ada@acme.test", "token")

    assert isinstance(me, Myself) and (me.account.account_id, me.active) == ("acc-1", True)
    facts = validate_token(atlassian, "t")

    assert facts["account"].display_name == "Ada"
    assert seen == [SITE_MYSELF] * 2  # the gateway never


@pytest.mark.parametrize(("gateway", "code"), [(200, "api_token_has_scopes"), (401, "api_token_invalid")])
def test_a_token_the_site_refuses_is_told_apart_by_the_gateway(gateway: int, code: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(gateway if request.url.host == "api.atlassian.com" else 401, json={})

    seen: list[str] = []
    atlassian = client(answer, seen)

    assert atlassian.jira.myself(SITE, "ada@acme.test", "token") == Refused(401)
    assert atlassian.jira.myself_through_gateway("c-1", "ada@acme.test", "token") == (
        Accepted() if gateway == 200 else Refused(401)
    )
    with pytest.raises(CredentialRejected) as rejected:
        validate_token(atlassian, "token")
    assert rejected.value.code == code
    assert seen[-2:] == [
        "acme.atlassian.net/rest/api/3/myself",
        "api.atlassian.com/ex/jira/c-1/rest/api/3/myself",
    ]


def test_a_busy_gateway_is_unavailable_never_a_refusal() -> None:
    seen: list[str] = []
    atlassian = client(lambda _: httpx.Response(429, json={}), seen)

    with pytest.raises(AtlassianUnavailable):
        atlassian.jira.myself_through_gateway("c-1", "ada@acme.test", "token")


def test_the_workspace_search_reads_page_after_page_until_one_holds_the_site() -> None:
    # Given an organization whose second page of workspaces holds the site
    pages = [
        {"data": [{"id": "ari:cloud:jira::site/a", "attributes": {"hostUrl": "https://a.atlassian.net"}}]}
        | {"links": {"next": "page-2"}},
        {"data": [{"id": "ari:cloud:jira::site/c-1", "attributes": {"hostUrl": None}}], "links": {}},
    ]
    bodies: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        bodies.append(request.content)
        return httpx.Response(200, json=pages[1 if b"cursor" in request.content else 0])

    atlassian = client(answer, [])

    # When it is searched for the site's cloud id
    found = atlassian.org_admin.find_workspace("key", "org-1", lambda w: w.id.endswith("/c-1"))

    # Then the second page's workspace is found, asked for with the first page's cursor
    assert found is not None and not isinstance(found, Refused) and found.id.endswith("/c-1")
    assert [json.loads(b) for b in bodies] == [{"limit": 100}, {"cursor": "page-2"}]
    # and a site no page holds is None, once every page was read
    assert atlassian.org_admin.find_workspace("key", "org-1", lambda w: False) is None
    assert len(bodies) == 4


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("https://Acme.atlassian.net", "HTTPS://acme.ATLASSIAN.net/", True),
        ("https://acme.atlassian.net", "https://acme.atlassian.net:8443", False),
        ("https://acme.atlassian.net", None, False),
    ],
)
def test_sites_are_the_same_by_scheme_and_host_whatever_the_case(
    one: str, other: str | None, same: bool
) -> None:
    assert same_site(one, other) is same
