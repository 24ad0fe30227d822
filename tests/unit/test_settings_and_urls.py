"""Settings from the environment, and the outbound URL rules of the Atlassian client."""

from __future__ import annotations

import pytest

from api_info.atlassian import AtlassianClient
from api_info.errors import UnsafeUrl
from api_info.settings import Settings


def test_settings_read_the_contract_names_with_their_defaults() -> None:
    settings = Settings.from_env({"FORGE_APP_ID": "ari:cloud:ecosystem::app/x"})

    assert settings.forge_jwks_url == "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
    assert settings.atlassian_api_url == "https://api.atlassian.com"
    assert settings.atlassian_site_hosts == (".atlassian.net", ".jira.com")
    assert settings.allow_insecure_loopback is False
    assert settings.expiry_warning_days == 14


def test_settings_parse_lists_and_flags() -> None:
    settings = Settings.from_env(
        {
            "FORGE_APP_ID": "x",
            "ATLASSIAN_SITE_HOSTS": " .example.net , .Jira.com ",
            "ALLOW_INSECURE_LOOPBACK": "TRUE",
            "EXPIRY_WARNING_DAYS": "30",
        }
    )

    assert settings.atlassian_site_hosts == (".example.net", ".jira.com")
    assert settings.allow_insecure_loopback is True
    assert settings.expiry_warning_days == 30


def test_the_app_id_is_required() -> None:
    with pytest.raises(ValueError, match="forge_app_id"):
        Settings.from_env({})


def client(loopback: bool = False) -> AtlassianClient:
    return AtlassianClient(Settings(forge_app_id="x", allow_insecure_loopback=loopback))


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.atlassian.net",
        "https://acme.atlassian.net/",
        "https://acme.jira.com",
        "https://api.atlassian.com/ex/jira/1234",
        "https://acme.atlassian.net:443",
    ],
)
def test_atlassian_sites_are_allowed(url: str) -> None:
    assert client().vet_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.atlassian.net",
        "https://acme.atlassian.net:8443",
        "https://acme.atlassian.net.evil.com",
        "https://evil.com/acme.atlassian.net",
        "https://user@evil.com",
        "https://acme.atlassian.net@evil.com",
        "https://169.254.169.254",
        "http://169.254.169.254/latest/meta-data",
        "http://localhost:2773",
        "http://127.0.0.1:4000",
        "https://2130706433",
        "https://[::ffff:127.0.0.1]",
        "https://atlassian.net",
        "https://acme.atlassian.net./",
        "https://acme.atlassian.net/..%2f..",
        "https://acme.atlassian.net/?x=1",
        "ftp://acme.atlassian.net",
        "",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        client().vet_url(url)


def test_loopback_is_allowed_only_with_the_flag() -> None:
    assert client(loopback=True).vet_url("http://127.0.0.1:4010") == "http://127.0.0.1:4010"
    assert client(loopback=True).vet_url("http://localhost:4010/") == "http://localhost:4010"
    with pytest.raises(UnsafeUrl):
        client(loopback=False).vet_url("http://127.0.0.1:4010")
