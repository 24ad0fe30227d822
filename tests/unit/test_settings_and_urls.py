"""Settings from the environment, and the outbound URL rules of the Atlassian client."""

from __future__ import annotations

import pytest

from api_info.atlassian import Transport
from api_info.errors import UnsafeUrl
from api_info.settings import Settings
from api_info.wiring import dynamodb_client, secrets_client


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


def test_the_aws_clients_keep_a_connection_for_each_check_thread_and_the_loader(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With fewer, urllib3 throws connections away under the worker's threads, logging a warning each time.
    most = Settings.from_env({"FORGE_APP_ID": "x", "CHECK_CONCURRENCY": "100"}).check_concurrency
    with pytest.raises(ValueError, match="check_concurrency"):
        Settings.from_env({"FORGE_APP_ID": "x", "CHECK_CONCURRENCY": str(most + 1)})
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    for make in (dynamodb_client, secrets_client):
        make.cache_clear()
        assert make().meta.config.max_pool_connections >= most + 1
        make.cache_clear()


def test_the_app_id_is_required() -> None:
    with pytest.raises(ValueError, match="forge_app_id"):
        Settings.from_env({})


def client(loopback: bool = False) -> Transport:
    return Transport(Settings(forge_app_id="x", allow_insecure_loopback=loopback))


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
        # the instance metadata service and the Lambda extensions' port, however written
        "https://169.254.169.254:443/latest/meta-data",
        "https://[::ffff:169.254.169.254]",
        "https://[::ffff:a9fe:a9fe]",
        "https://[fd00:ec2::254]",
        "http://2852039166",
        "https://2852039166",
        "https://0xa9fea9fe",
        "https://0251.0376.0251.0376",
        "https://169.254.169.254.nip.io",
        "http://localhost:2773/secretsmanager/get?secretId=x",
        "https://localhost:2773",
        "https://localhost",
        "https://127.0.0.1",
        "http://2130706433",
        "https://0x7f000001",
        "https://0177.0.0.1",
        "https://127.1",
        "https://[::1]",
        "https://[::ffff:127.0.0.1]:443",
        "https://0.0.0.0",
        # look-alikes of an Atlassian site
        "https://acme.atlassian.net.evil.com/",
        "https://acmeatlassian.net",
        "https://acme-atlassian.net",
        "https://evil.com/acme.atlassian.net",
        "https://evil.com?.atlassian.net",
        "https://evil.com#.atlassian.net",
        "https://evil.com\\.atlassian.net",
        "https://user@evil.com",
        "https://user:pass@acme.atlassian.net",
        "https://acme.atlassian.net:443@evil.com",
        "https://acme.atlassian.net%2F@evil.com",
        "https://evil.com%2F.atlassian.net",
        "https://xn--cme-8cd.atlassian.net.evil.com",
        "https://\u0430cme.atlassian.net",  # a Cyrillic a
        "https://api.atlassian.com.evil.com",
        "https://api.atlassian.com@evil.com",
        # schemes and ports
        "http://acme.atlassian.net:443",
        "https://acme.atlassian.net:80",
        "https://acme.atlassian.net:0",
        "https://acme.atlassian.net:65536",
        "https://acme.atlassian.net:x",
        "file:///etc/passwd",
        "gopher://acme.atlassian.net",
        "//acme.atlassian.net",
        "acme.atlassian.net",
        "javascript:alert(1)",
    ],
)
def test_anything_else_is_refused(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        client().vet_url(url)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1", "http://localhost:2773", "http://127.0.0.1:4010/ex/jira/x", "https://localhost"],
)
def test_without_the_loopback_flag_no_loopback_address_is_allowed(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        client(loopback=False).vet_url(url)


def test_the_loopback_flag_allows_loopback_names_only() -> None:
    for url in ("http://127.0.0.2", "http://2130706433", "http://[::1]:4010", "http://0.0.0.0:4010"):
        with pytest.raises(UnsafeUrl):
            client(loopback=True).vet_url(url)


def test_loopback_is_allowed_only_with_the_flag() -> None:
    assert client(loopback=True).vet_url("http://127.0.0.1:4010") == "http://127.0.0.1:4010"
    assert client(loopback=True).vet_url("http://localhost:4010/") == "http://localhost:4010"
    with pytest.raises(UnsafeUrl):
        client(loopback=False).vet_url("http://127.0.0.1:4010")


def test_a_caller_never_shows_the_app_system_token() -> None:
    # The caller travels through the request (app.context); a log line or traceback that prints it must
    # not print the token Jira accepts as the app.
    from api_info.auth import Caller
    from api_info.records import Actor, Tenant

    caller = Caller(
        tenant=Tenant(installation_id="x"), actor=Actor(type="forge"), system_token="sim-system-token-x"
    )

    assert "sim-system-token-x" not in repr(caller)
    assert "sim-system-token-x" not in str(caller)
