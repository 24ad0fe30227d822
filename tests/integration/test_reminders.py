"""Expiry reminders (docs/API.md §4): one "Credential expiry reminder" per threshold of REMINDER_DAYS per
saved value, over repeated checks, retried worker batches and concurrent checks; afresh after a change.
"""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from api_info import checks as checks_module
from local.atlassian_sim import ORG_ID, ORG_NAME, AtlassianSimulator
from tests.support.checks import Checks, fail_publishing, tenant_id
from tests.support.harness import Api

REMINDER = "Credential expiry reminder"
TODAY = datetime.now(UTC).date()
EXPIRES = TODAY + timedelta(days=60)


def new_key(simulator: AtlassianSimulator) -> str:
    key = f"sim-admin-key-remind-{uuid.uuid4().hex[:8]}"
    simulator.add_key(key, ORG_ID, ORG_NAME)
    return key


def save_key(api: Api, key: str, expires_on: date = EXPIRES) -> None:
    answer = api.call("change_key", body={"apiKey": key, "expiresOn": expires_on.isoformat()})
    assert answer.status == 200, answer.body


@pytest.fixture
def key(api: Api, simulator: AtlassianSimulator) -> str:
    """The tenant's key, fresh and saved with EXPIRES as its date."""
    value = new_key(simulator)
    save_key(api, value)
    return value


def on_day(monkeypatch: pytest.MonkeyPatch, days_left: int) -> None:
    """Move the checks' clock to `days_left` days before EXPIRES."""
    monkeypatch.setattr(checks_module, "utc_today", lambda: EXPIRES - timedelta(days=days_left))


def reminders(checks: Checks) -> list[dict[str, Any]]:
    return [e["detail"] for e in checks.reminders()]


def thresholds(checks: Checks) -> list[int]:
    return [d["threshold"] for d in reminders(checks)]


def test_each_threshold_is_announced_once_over_repeated_checks(
    key: str, api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:

    for days_left in (45, 31, 30, 29, 20, 14, 14, 8, 7, 3, 1, 1, 0):
        on_day(monkeypatch, days_left)
        assert checks.run("acme") == {"batchItemFailures": []}

    assert thresholds(checks) == [30, 14, 7, 1]
    assert [d["daysLeft"] for d in reminders(checks)] == [30, 14, 7, 1]


def test_the_event_carries_exactly_the_contracts_detail(
    api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key(simulator)
    save_key(api, key)
    on_day(monkeypatch, 12)

    checks.run("acme")

    (event,) = checks.reminders()
    assert event["detail-type"] == REMINDER
    assert event["source"] == "flexible-user-license.api-info"
    assert event["detail"] == {
        "tenantId": tenant_id("acme"),
        "credential": "apiKey",
        "expiresOn": EXPIRES.isoformat(),
        "daysLeft": 12,
        "threshold": 14,
    }
    raw = json.dumps(event)
    assert key not in raw and key[-4:] not in raw and "•" not in raw


def test_thresholds_passed_between_two_checks_are_announced_once_at_the_smallest(
    key: str, api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:

    on_day(monkeypatch, 5)  # 30, 14 and 7 all passed since the last check
    checks.run("acme")
    checks.run("acme")
    on_day(monkeypatch, 1)
    checks.run("acme")

    assert thresholds(checks) == [7, 1]
    assert [d["daysLeft"] for d in reminders(checks)] == [5, 1]


def test_a_retried_worker_batch_announces_nothing_again(
    key: str, api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_day(monkeypatch, 10)
    checks.enqueue("acme")
    messages = checks.receive()

    checks.work(messages)
    checks.work(messages)  # the same batch delivered again, as after a lost answer

    assert thresholds(checks) == [14]


def test_concurrent_checks_announce_once(
    key: str, api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = f"sim-token-remind-{uuid.uuid4().hex[:8]}"
    simulator.add_token("ada@acme.test", token, "sim-account-ada", "Ada Admin")
    body = {"email": "ada@acme.test", "apiToken": token, "expiresOn": EXPIRES.isoformat()}
    assert api.call("change_token", body=body).status == 200
    on_day(monkeypatch, 6)
    checks.enqueue(*["acme"] * 8)
    messages = checks.receive()

    # Eight checks of the tenant in one batch (on the worker's pool) and four batches at once
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(checks.work, [messages, *[[m] for m in messages[:3]]]))

    assert sorted((d["credential"], d["threshold"]) for d in reminders(checks)) == [
        ("apiKey", 7),
        ("apiToken", 7),
    ]


def test_a_new_value_starts_afresh(
    key: str, api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_day(monkeypatch, 20)
    checks.run("acme")

    save_key(api, new_key(simulator))  # a new key, with the same date
    checks.run("acme")
    checks.run("acme")

    assert thresholds(checks) == [30, 30]


def test_a_failed_publish_is_announced_by_the_next_check(
    key: str, api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_day(monkeypatch, 25)
    recover = fail_publishing(monkeypatch, REMINDER)
    failed = checks.run("acme")
    recover()
    checks.run("acme")

    assert len(failed["batchItemFailures"]) == 1  # retried, as a failed status-change event is
    assert thresholds(checks) == [30]


def test_an_invalid_credential_is_reminded_of_nothing(
    api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = new_key(simulator)
    save_key(api, key)
    simulator.remove_key(key)
    on_day(monkeypatch, 3)

    checks.run("acme")
    checks.run("acme")

    assert thresholds(checks) == []
    # Accepted again (same value): what is due is announced then.
    simulator.add_key(key, ORG_ID, ORG_NAME)
    checks.run("acme")
    assert thresholds(checks) == [7]


def test_a_token_dated_by_atlassian_is_reminded_by_the_on_demand_check(
    api: Api, checks: Checks, simulator: AtlassianSimulator
) -> None:
    # Eve's token expires in 6.5 days by the simulated organization's listing
    save_key(api, "sim-admin-key-unscoped-GOOD1", EXPIRES)
    body = {"email": "eve@acme.test", "apiToken": "sim-token-expiry-one-EXP1"}
    assert api.call("change_token", body=body).status == 200

    answer = api.call("check_now")

    assert answer.status == 200
    (detail,) = reminders(checks)
    token = answer.body["apiToken"]
    assert detail == {
        "tenantId": tenant_id("acme"),
        "credential": "apiToken",
        "expiresOn": token["expiresOn"],
        "daysLeft": token["daysLeft"],
        "threshold": 7,
    }
    assert "eve@acme.test" not in json.dumps(checks.reminders())
