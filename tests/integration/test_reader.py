"""The one function the rest of the app reads a tenant's current key or token with."""

from __future__ import annotations

from api_info.credentials import API_KEY, API_TOKEN
from api_info.reader import CredentialReader
from api_info.wiring import services
from local.atlassian_sim import AtlassianSimulator
from tests.support.harness import Api


def test_the_reader_returns_the_saved_credential_and_hides_it_in_reprs(api: Api) -> None:
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"})
    tenant = api.call("get_info").body["tenant"]["installationId"]

    token = services().reader.current(tenant, API_TOKEN)

    assert token is not None
    assert token.value.get_secret_value() == "sim-token-classic-GOOD2"
    assert token.email == "ada@acme.test"
    assert "sim-token-classic-GOOD2" not in repr(token) + str(token)


def test_the_reader_caches_until_asked_to_refresh(api: Api, simulator: AtlassianSimulator) -> None:
    simulator.add_key("sim-admin-key-next-NXT1", org_id="sim-org-acme", org_name="Acme")
    api.call("change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1"})
    tenant = api.call("get_info").body["tenant"]["installationId"]
    reader = CredentialReader(services().records, services().secrets, ttl_seconds=300)
    assert reader.current(tenant, API_KEY).value.get_secret_value().endswith("GOOD1")  # type: ignore[union-attr]

    api.call("change_key", body={"apiKey": "sim-admin-key-next-NXT1"})

    cached = reader.current(tenant, API_KEY)
    fresh = reader.current(tenant, API_KEY, refresh=True)  # what the app does after Atlassian's 401
    assert cached is not None and cached.value.get_secret_value().endswith("GOOD1")
    assert fresh is not None and fresh.value.get_secret_value().endswith("NXT1")


def test_a_tenant_without_a_credential_reads_none(api: Api) -> None:
    tenant = api.call("get_info", tenant="empty").body["tenant"]["installationId"]

    assert services().reader.current(tenant, API_KEY) is None
