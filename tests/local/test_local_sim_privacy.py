"""The simulator's Personal data reporting API answers as Atlassian documents it (docs/PRIVACY.md)."""

from typing import Any

import httpx
import pytest

from local.atlassian_sim import CREDENTIALS_HELP, SYSTEM_TOKEN_PREFIX, AtlassianSimulator
from local.sim_privacy import ACTIVE_TEST_ACCOUNT, CLOSED_TEST_ACCOUNT

CLOUD = "11111111-2222-3333-4444-555555555555"
APP = {"Authorization": f"Bearer {SYSTEM_TOKEN_PREFIX}-local"}


def report(http: httpx.Client, *account_ids: str, headers: dict[str, str] = APP) -> httpx.Response:
    accounts = [{"accountId": a, "updatedAt": "2026-11-01T00:00:00Z"} for a in account_ids]
    return http.post("/app/report-accounts/", json={"accounts": accounts}, headers=headers)


def test_nothing_to_do_is_204_with_the_cycle_period(http: httpx.Client, sim: AtlassianSimulator) -> None:
    answer = report(http, ACTIVE_TEST_ACCOUNT)

    assert answer.status_code == 204
    assert answer.content == b""
    assert answer.headers["cycle-period"] == "7"
    assert sim.privacy.reported_ids() == [ACTIVE_TEST_ACCOUNT]


def test_closed_and_updated_accounts_are_named_and_the_rest_left_out(
    http: httpx.Client, sim: AtlassianSimulator
) -> None:
    sim.privacy.updated = {"sim-admin-0001": "Sam Renamed"}

    answer = report(http, ACTIVE_TEST_ACCOUNT, CLOSED_TEST_ACCOUNT, "sim-admin-0001")

    assert answer.status_code == 200
    assert answer.json() == {
        "accounts": [
            {"accountId": CLOSED_TEST_ACCOUNT, "status": "closed"},
            {"accountId": "sim-admin-0001", "status": "updated"},
        ]
    }
    # Jira's user lookup then shows the updated account's new name.
    user = http.get(f"/ex/jira/{CLOUD}/rest/api/3/user", params={"accountId": "sim-admin-0001"}, headers=APP)
    assert user.json()["displayName"] == "Sam Renamed"


def test_at_most_90_accounts_per_request(http: httpx.Client, sim: AtlassianSimulator) -> None:
    assert report(http, *(f"acc-{i}" for i in range(90))).status_code == 204
    assert report(http, *(f"acc-{i}" for i in range(91))).status_code == 400
    assert [len(batch) for batch in sim.privacy.received] == [90]


@pytest.mark.parametrize(
    "body",
    [{}, {"accounts": "x"}, {"accounts": []}, {"accounts": [{"accountId": "a"}]}, {"accounts": [7]}],
)
def test_a_malformed_report_is_400(http: httpx.Client, body: dict[str, Any]) -> None:
    assert http.post("/app/report-accounts/", json=body, headers=APP).status_code == 400


def test_without_the_app_token_it_is_401(http: httpx.Client, sim: AtlassianSimulator) -> None:
    assert report(http, ACTIVE_TEST_ACCOUNT, headers={}).status_code == 401
    assert report(http, ACTIVE_TEST_ACCOUNT, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert sim.privacy.received == []


def test_429_with_retry_after_and_500_after_the_batches_it_answers(
    http: httpx.Client, sim: AtlassianSimulator
) -> None:
    sim.privacy.behaviour, sim.privacy.trouble_after = "rate_limited", 1
    assert report(http, ACTIVE_TEST_ACCOUNT).status_code == 204
    limited = report(http, ACTIVE_TEST_ACCOUNT)
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "7")
    sim.privacy.behaviour = "error"
    assert report(http, ACTIVE_TEST_ACCOUNT).status_code == 500
    assert len(sim.privacy.received) == 1


def test_the_banner_lists_the_reporting_api() -> None:
    assert "/app/report-accounts/" in CREDENTIALS_HELP
    assert CLOSED_TEST_ACCOUNT in CREDENTIALS_HELP
