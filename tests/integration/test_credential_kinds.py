"""Credential kinds are types: a third kind, declared in one test module and registered, goes through
info, change, check, delete and history with no change anywhere else; an unknown kind is an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from api_info import info
from api_info.auth import Caller
from api_info.change import change_credential
from api_info.checks import SCHEDULER, check_tenant
from api_info.credentials import (
    API_KEY,
    API_TOKEN,
    UnknownCredential,
    kind_named,
    kinds,
    register,
    unregister,
)
from api_info.credentials.ref import CredentialRef
from api_info.errors import CredentialRejected
from api_info.page import info_page
from api_info.records import Actor, HistoryEvent, Tenant
from api_info.removal import delete_credential
from api_info.wiring import check_services, services
from local.atlassian_sim import AtlassianSimulator
from tests.support.checks import Checks
from tests.support.service_account import SERVICE_ACCOUNT, ChangeServiceAccountRequest
from tests.support.state import tenant_secrets

TENANT = "ari:cloud:ecosystem::installation/kinds-0001"
SECRET = "sa-secret-0123456789-GOOD"
OPERATOR = Actor(type="aws", arn="arn:aws:sts::123456789012:assumed-role/operators/ada")


@pytest.fixture
def service_account() -> Iterator[None]:
    register(SERVICE_ACCOUNT)
    yield
    unregister(SERVICE_ACCOUNT)


def request(secret: str) -> ChangeServiceAccountRequest:
    return ChangeServiceAccountRequest(clientId="client-0001", serviceAccount=SecretStr(secret))


def test_a_third_kind_goes_through_info_change_check_delete_and_history(
    aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks, service_account: None
) -> None:
    # Given a third kind registered, and Atlassian knowing its secret
    simulator.add_key(SECRET, org_id="org-sa", org_name="Service Org")
    svc = services()
    caller = Caller(
        tenant=Tenant(installation_id=TENANT, cloud_id="c1", site_url=simulator.url), actor=OPERATOR
    )
    state = svc.tenants.load(TENANT)
    assert info_page(svc.settings, caller.tenant, state)["serviceAccount"]["status"] == "not_configured"

    # When a wrong secret is saved, Atlassian's refusal is the kind's own
    with pytest.raises(CredentialRejected) as refused:
        change_credential(svc, caller, SERVICE_ACCOUNT, request("sa-secret-0123456789-BAD0"))
    assert refused.value.code == "service_account_invalid"

    # When the right one is saved, it is valid, masked, and its secret holds its own fields
    saved = change_credential(svc, caller, SERVICE_ACCOUNT, request(SECRET), idempotency_key="sa-0001")
    shown = saved.model_dump(mode="json", by_alias=True)["serviceAccount"]
    assert (shown["status"], shown["maskedValue"]) == ("valid", "••••••••GOOD")
    assert shown["organization"] == {"id": "org-sa", "name": "Service Org"}
    current = svc.reader.current(TENANT, SERVICE_ACCOUNT)
    assert current is not None and current.value.get_secret_value() == SECRET
    (values,) = tenant_secrets(TENANT, "serviceAccount").values()
    assert values == [f'{{"clientId": "client-0001", "serviceAccount": "{SECRET}"}}']
    # and the page shows it beside the key and the token, which it left alone
    state = svc.tenants.load(TENANT)
    page = info_page(svc.settings, state.tenant or caller.tenant, state)
    assert [page[k.name]["status"] for k in (API_KEY, API_TOKEN, SERVICE_ACCOUNT)] == [
        "not_configured",
        "not_configured",
        "valid",
    ]
    assert page["links"]["manageServiceAccounts"] == "https://admin.atlassian.com/"

    # When Atlassian revokes it, the next check makes it invalid and tells the app
    simulator.remove_key(SECRET)
    result = check_tenant(check_services(), TENANT, svc.tenants.load(TENANT), SCHEDULER)
    svc.history.add_events(result.history)
    (checked,) = result.credentials
    assert (checked.kind, checked.outcome, checked.status) == (SERVICE_ACCOUNT, "rejected", "invalid")
    (event,) = checks.events()
    assert event["detail"]["credential"] == "serviceAccount"
    assert (event["detail"]["previousStatus"], event["detail"]["status"]) == ("valid", "invalid")

    # When it is deleted, it is not configured any more
    deleted = delete_credential(svc, caller, SERVICE_ACCOUNT)
    assert deleted["serviceAccount"]["status"] == "not_configured"
    assert svc.records.load(CredentialRef(TENANT, SERVICE_ACCOUNT)) is None

    # Then the history tells it all, newest first
    trail = info.history(svc, caller, 10, None)
    assert [(e["credential"], e["action"], e["outcome"], e["code"]) for e in trail["events"]] == [
        ("serviceAccount", "deleted", "succeeded", None),
        ("serviceAccount", "checked", "rejected", "service_account_invalid"),
        ("serviceAccount", "changed", "succeeded", None),
        ("serviceAccount", "changed", "rejected", "service_account_invalid"),
    ]


def test_an_unknown_kind_is_a_clear_error_never_a_default() -> None:
    assert [kind.name for kind in kinds()] == ["apiKey", "apiToken"]
    with pytest.raises(UnknownCredential, match="serviceAccount"):
        kind_named("serviceAccount")
    # A stored event of a kind no module declares does not pass for one that does.
    with pytest.raises(UnknownCredential, match="apiSecret"):
        HistoryEvent.from_item(
            {"at": "2026-12-07T10:00:00Z", "actor": {"type": "forge"}, "credential": "apiSecret"}
            | {"action": "checked", "outcome": "succeeded"}
        )
