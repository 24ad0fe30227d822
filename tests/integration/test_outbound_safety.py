"""Outbound safety end to end: a genuine token naming a hostile site or API base URL makes the service
call nothing, an Atlassian redirect to an internal address is not followed, and no body is a URL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api_info import settings, wiring
from local.atlassian_sim import REDIRECT, AtlassianSimulator
from local.dev_issuer import installation
from tests.support.harness import ADMIN, Api

HOSTILE = [
    "http://169.254.169.254/latest/meta-data",
    "https://169.254.169.254",
    "https://[::ffff:169.254.169.254]",
    "http://2852039166",
    "https://acme.atlassian.net.evil.com",
    "https://evil.com/acme.atlassian.net",
    "https://user@evil.com",
    "https://acme.atlassian.net@evil.com",
    "http://acme.atlassian.net",
    "https://acme.atlassian.net:8443",
    "https://[fd00:ec2::254]",
]


def spy_on_outbound_calls() -> list[str]:
    """Every URL the service's Atlassian client asks httpx for, recorded before it is sent; but the JWKS
    (FORGE_JWKS_URL, a setting, which the client fetches too), the one URL no token or body names."""
    sent: list[str] = []
    svc = wiring.services()
    http, jwks = svc.atlassian.transport.http, svc.settings.forge_jwks_url
    original = http.send

    def spy(request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if str(request.url) != jwks:
            sent.append(str(request.url))
        return original(request, **kwargs)

    http.send = spy  # type: ignore[method-assign]
    return sent


@pytest.fixture
def outbound(api: Api) -> list[str]:
    return spy_on_outbound_calls()


def token_naming(
    api: Api, *, site_url: str | None = None, api_base_url: str | None = None, account: str | None = ADMIN
) -> str:
    ids = installation("acme")
    return api.issuer.mint(
        installation_id=ids["installationId"],
        account_id=account,
        cloud_id=ids["cloudId"],
        site_url=site_url or api.sim_url,
        api_base_url=api_base_url or f"{api.sim_url}/ex/jira/{ids['cloudId']}",
    )


@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_api_base_url_fails_the_administrator_check_without_a_call(
    api: Api, outbound: list[str], url: str
) -> None:
    answer = api.call("get_info", token=token_naming(api, api_base_url=url))

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"
    assert outbound == []


@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_site_url_is_never_called_when_a_token_is_validated(
    api: Api, outbound: list[str], url: str
) -> None:
    body = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
    answer = api.call("change_token", body=body, token=token_naming(api, site_url=url))

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"
    assert "Atlassian site" in answer.body["error"]["message"]
    assert outbound == []  # refused before the administrator check (contract 2d)


BAD_SITE = "http://169.254.169.254/latest/meta-data"


@pytest.mark.parametrize(
    ("sample", "body"),
    [
        ("get_info", None),
        ("history", None),
        ("check_now", None),
        ("delete_key", None),
        ("change_key", {"apiKey": "sim-admin-key-unscoped-GOOD1"}),
    ],
)
def test_a_site_url_the_service_would_never_call_is_403_and_never_stored(
    api: Api, outbound: list[str], table_items: Any, sample: str, body: Any
) -> None:
    # When a genuine token names a site URL outside the allow-list (contract 2d)
    answer = api.call(sample, body=body, token=token_naming(api, site_url=BAD_SITE))

    # Then the route refuses it before anything: nothing called, nothing stored
    assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden")
    assert outbound == []
    assert not [item for item in table_items() if BAD_SITE in str(item)]
    assert table_items() == []


@pytest.mark.parametrize("site_url", [BAD_SITE, "https://acme.atlassian.net\t", "not a url"])
def test_the_uninstall_deletes_whatever_site_url_its_token_names(
    api: Api, outbound: list[str], table_items: Any, site_url: str
) -> None:
    # Given a stored installation
    assert api.call("change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1"}).status == 200
    outbound.clear()

    # When Forge's uninstall names a site URL the service would never call
    answer = api.call("uninstalled", token=token_naming(api, site_url=site_url, account=None))

    # Then everything is deleted all the same, and the URL was neither called nor stored
    assert answer.status == 204
    assert table_items() == []
    assert outbound == []


def test_the_personal_data_trigger_works_whatever_site_url_its_token_names(
    api: Api, outbound: list[str], table_items: Any
) -> None:
    answer = api.call("personal_data", token=token_naming(api, site_url=BAD_SITE, account=None))

    assert answer.status == 202
    assert not [item for item in table_items() if BAD_SITE in str(item)]


def test_without_the_loopback_flag_even_loopback_atlassian_is_refused(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the production setting, while the token names http://127.0.0.1 (the simulator)
    monkeypatch.setenv("ALLOW_INSECURE_LOOPBACK", "false")
    settings.get_settings.cache_clear()
    wiring.services.cache_clear()
    sent = spy_on_outbound_calls()

    answer = api.call("get_info")

    assert answer.status == 403
    assert sent == []


@pytest.fixture
def redirecting(simulator: AtlassianSimulator) -> Iterator[str]:
    """Credentials the simulator answers with a redirect to an internal address (its own /internal)."""
    simulator.add_key("sim-admin-key-redirect-R302", "sim-org-acme", "Acme", behaviour=REDIRECT)
    simulator.add_token(
        "ada@acme.test", "sim-token-redirect-R302", "sim-account-ada", "Ada", behaviour=REDIRECT
    )
    simulator.redirect_to = f"{simulator.url}/internal/latest/meta-data"
    yield "/internal/latest/meta-data"
    simulator.redirect_to = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


def test_a_redirect_from_atlassian_is_not_followed(
    api: Api, simulator: AtlassianSimulator, redirecting: str
) -> None:
    key = api.call("change_key", body={"apiKey": "sim-admin-key-redirect-R302"})
    token = api.call("change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-redirect-R302"})

    for answer in (key, token):
        assert answer.status == 502, answer.body
        assert answer.body["error"]["code"] == "atlassian_error"
    assert not [path for _, path in simulator.requests if path.startswith("/internal")]
    assert api.call("get_info").body["apiKey"]["status"] == "not_configured"


def test_no_request_body_is_ever_used_as_a_url(api: Api, outbound: list[str]) -> None:
    # URL-like values in every field the bodies have (the unknown ones are refused outright)
    evil = "http://169.254.169.254/latest/meta-data"
    api.call("change_key", body={"apiKey": evil})
    api.call("change_key", body={"apiKey": "k", "siteUrl": evil, "apiBaseUrl": evil})
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": evil})
    api.call("change_token", body={"email": "a@b.c", "apiToken": "t", "siteUrl": evil})

    assert outbound
    assert not [u for u in outbound if "169.254" in u]
