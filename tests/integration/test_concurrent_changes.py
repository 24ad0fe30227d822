"""Two administrators press Save at the same moment: one change wins cleanly, never a mix of both."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import SecretStr

from api_info.auth import Caller
from api_info.change import change_credential
from api_info.credentials import API_KEY
from api_info.credentials.ref import CredentialRef
from api_info.errors import ApiError
from api_info.models import ChangeKeyRequest
from api_info.records import Actor, Tenant
from api_info.wiring import services
from local.atlassian_sim import AtlassianSimulator
from local.dev_issuer import installation
from local.lambdas import reset_container_caches

KEYS = {f"sim-admin-key-racer{i}-RAC{i}": f"org-racer-{i}" for i in range(4)}


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_changes_of_one_credential_end_with_one_whole_winner(
    aws: dict[str, str], simulator: AtlassianSimulator, monkeypatch: pytest.MonkeyPatch, round_: int
) -> None:
    # Given four different keys, each of its own organization, and an Atlassian slow enough to overlap
    # (with the deployed 5 s deadline: the tests' 1 s is too short for four threads on a loaded machine)
    monkeypatch.setenv("ATLASSIAN_TIMEOUT_SECONDS", "5")
    reset_container_caches()
    for key, org in KEYS.items():
        simulator.add_key(key, org_id=org, org_name=org)
    simulator.latency_ms = 150
    ids = installation(f"race-{round_}")
    caller = Caller(
        tenant=Tenant(installation_id=ids["installationId"], cloud_id=ids["cloudId"], site_url=simulator.url),
        actor=Actor(type="atlassian", account_id="sim-admin-0001"),
    )
    svc = services()

    def save(key: str) -> str:
        try:
            change_credential(svc, caller, API_KEY, ChangeKeyRequest(apiKey=SecretStr(key)))
            return "saved"
        except ApiError as exc:
            return exc.code

    # When they are saved at the same moment
    try:
        with ThreadPoolExecutor(max_workers=len(KEYS)) as pool:
            outcomes = dict(zip(KEYS, pool.map(save, KEYS), strict=True))
    finally:
        simulator.latency_ms = 0

    # Then one or more were applied one after the other, the others were told a change was under way,
    assert set(outcomes.values()) <= {"saved", "change_in_progress"}
    assert "saved" in outcomes.values()
    assert "change_in_progress" in outcomes.values()  # they really overlapped
    # and what is stored is one whole key: its secret, its masked value and its organization together
    record = svc.records.load(CredentialRef(ids["installationId"], API_KEY))
    used = svc.reader.current(ids["installationId"], API_KEY, refresh=True)
    assert record is not None and used is not None
    winner = used.value.get_secret_value()
    assert outcomes[winner] == "saved"
    assert record.masked_value == "••••••••" + winner[-4:]
    assert record.organization is not None and record.organization.id == KEYS[winner]
