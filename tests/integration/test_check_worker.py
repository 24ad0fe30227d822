"""The check worker on SQS batches, over moto's queue and bus, against the Atlassian simulator.

Each status transition, the no-flap rule for Atlassian failures, retries of failed batch items, and the
"Credential status changed" event on transitions only.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import boto3
import pytest

from api_info import checks as checks_module
from api_info import wiring
from api_info.messaging import CheckQueue
from api_info.store.history import History
from local.atlassian_sim import ERROR, ORG_ID, ORG_NAME, RATE_LIMITED, AtlassianSimulator
from tests.support.checks import STATUS_CHANGED, Checks, fail_publishing, function_module, sample, tenant_id
from tests.support.harness import Api, LambdaContext
from tests.support.state import history_items

TODAY = datetime.now(UTC).date()


def new_key(simulator: AtlassianSimulator, behaviour: str = "ok") -> str:
    """A key the simulator accepts, unique to the test (the simulator outlives a test)."""
    key = f"sim-admin-key-check-{uuid.uuid4().hex[:8]}"
    simulator.add_key(key, ORG_ID, ORG_NAME, behaviour=behaviour)
    return key


def new_token(simulator: AtlassianSimulator) -> str:
    token = f"sim-token-check-{uuid.uuid4().hex[:8]}"
    simulator.add_token("ada@acme.test", token, "sim-account-ada", "Ada Admin")
    return token


def save_key(api: Api, key: str, expires_on: date | None = None, tenant: str = "acme") -> None:
    body: dict[str, Any] = {"apiKey": key}
    if expires_on:
        body["expiresOn"] = expires_on.isoformat()
    assert api.call("change_key", body=body, tenant=tenant).status == 200


def stored(aws: dict[str, str], credential: str, tenant: str = "acme") -> dict[str, Any]:
    """The credential's item as DynamoDB holds it."""
    item = boto3.client("dynamodb").get_item(
        TableName=aws["TABLE_NAME"],
        Key={"PK": {"S": f"TENANT#{tenant_id(tenant)}"}, "SK": {"S": f"CRED#{credential}"}},
    )["Item"]
    return {
        "status": item["status"]["S"],
        "lastCheck": {k: next(iter(v.values())) for k, v in item["lastCheck"]["M"].items()},
    }


def checked_history(aws: dict[str, str], tenant: str = "acme") -> list[tuple[str, str, str | None]]:
    items = sorted(history_items(aws["TABLE_NAME"], tenant_id(tenant)), key=lambda e: e["SK"]["S"])
    return [
        (e["credential"]["S"], e["outcome"]["S"], e["code"]["S"] if "code" in e else None)
        for e in items
        if e["action"]["S"] == "checked"
    ]


def transitions(checks: Checks) -> list[tuple[str, str, str]]:
    return [
        (e["detail"]["credential"], e["detail"]["previousStatus"], e["detail"]["status"])
        for e in checks.events()
    ]


def move_clock(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    monkeypatch.setattr(checks_module, "utc_today", lambda: day)


# --- the sample batch ---------------------------------------------------------------------------


def test_the_sample_batch_checks_both_tenants_and_reports_no_failure(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks
) -> None:
    # Given acme with a key and beta with nothing stored (the two tenants of events/sqs_batch.json)
    save_key(api, new_key(simulator))
    api.call("get_info", tenant="beta")
    simulator.reset()

    # When the worker runs on the sample as Lambda would deliver it
    response = function_module("CheckWorkerFunction").lambda_handler(sample("sqs_batch"), LambdaContext())

    # Then
    assert response == {"batchItemFailures": []}
    assert stored(aws, "apiKey")["lastCheck"]["outcome"] == "ok"
    assert ("GET", "/admin/v1/orgs") in simulator.requests
    assert checked_history(aws) == [("apiKey", "succeeded", None)]
    assert checked_history(aws, "beta") == []


# --- transitions --------------------------------------------------------------------------------


def test_a_revoked_key_becomes_invalid_and_the_app_is_told_once(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks
) -> None:
    key = new_key(simulator)
    save_key(api, key)
    simulator.remove_key(key)

    first = checks.run("acme")
    second = checks.run("acme")

    assert first == second == {"batchItemFailures": []}
    assert stored(aws, "apiKey") == {
        "status": "invalid",
        "lastCheck": {
            "at": stored(aws, "apiKey")["lastCheck"]["at"],
            "outcome": "rejected",
            "detail": "api_key_invalid",
        },
    }
    assert api.call("get_info").body["apiKey"]["status"] == "invalid"
    assert transitions(checks) == [("apiKey", "valid", "invalid")]
    assert checked_history(aws) == [("apiKey", "rejected", "api_key_invalid")] * 2


def test_a_revoked_token_becomes_invalid(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks
) -> None:
    token = new_token(simulator)
    assert api.call("change_token", body={"email": "ada@acme.test", "apiToken": token}).status == 200
    simulator.remove_token("ada@acme.test", token)

    checks.run("acme")

    assert stored(aws, "apiToken")["status"] == "invalid"
    assert stored(aws, "apiToken")["lastCheck"]["detail"] == "api_token_invalid"
    assert transitions(checks) == [("apiToken", "valid", "invalid")]


def test_an_invalid_key_accepted_again_becomes_valid(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks
) -> None:
    key = new_key(simulator)
    save_key(api, key)
    simulator.remove_key(key)
    checks.run("acme")

    simulator.add_key(key, ORG_ID, ORG_NAME)
    checks.run("acme")

    assert stored(aws, "apiKey")["status"] == "valid"
    assert transitions(checks) == [("apiKey", "valid", "invalid"), ("apiKey", "invalid", "valid")]


def test_a_key_nearing_its_expiry_date_becomes_expiring_then_expired(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    expires = TODAY + timedelta(days=30)
    save_key(api, new_key(simulator), expires_on=expires)

    checks.run("acme")  # a month ahead: nothing to say
    move_clock(monkeypatch, expires - timedelta(days=10))
    checks.run("acme")
    checks.run("acme")  # still expiring: said once
    move_clock(monkeypatch, expires + timedelta(days=1))
    checks.run("acme")

    assert transitions(checks) == [("apiKey", "valid", "expiring"), ("apiKey", "expiring", "expired")]
    assert stored(aws, "apiKey")["status"] == "valid"  # expiry is derived from expiresOn, never stored
    detail = checks.events()[-1]["detail"]
    assert detail["expiresOn"] == expires.isoformat()


def test_a_key_checked_past_its_date_is_expired_straight_from_valid(
    api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    expires = TODAY + timedelta(days=60)
    save_key(api, new_key(simulator), expires_on=expires)

    move_clock(monkeypatch, expires + timedelta(days=3))
    checks.run("acme")

    assert transitions(checks) == [("apiKey", "valid", "expired")]


def test_nothing_is_announced_while_nothing_changes(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks
) -> None:
    save_key(api, new_key(simulator))
    token = new_token(simulator)
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": token})

    for _ in range(3):
        assert checks.run("acme") == {"batchItemFailures": []}

    assert checks.events() == []
    assert sorted(checked_history(aws)) == sorted(
        [("apiKey", "succeeded", None), ("apiToken", "succeeded", None)] * 3
    )


def test_the_event_says_what_changed_and_never_holds_a_secret(
    api: Api, simulator: AtlassianSimulator, checks: Checks
) -> None:
    key = new_key(simulator)
    save_key(api, key, expires_on=TODAY + timedelta(days=200))
    simulator.remove_key(key)

    checks.run("acme")

    (event,) = checks.events()
    assert event["source"] == "flexible-user-license.api-info"
    assert event["detail-type"] == STATUS_CHANGED
    assert event["detail"] == {
        "tenant": {
            "installationId": tenant_id(),
            "cloudId": event["detail"]["tenant"]["cloudId"],
            "siteUrl": api.sim_url,
        },
        "credential": "apiKey",
        "previousStatus": "valid",
        "status": "invalid",
        "expiresOn": (TODAY + timedelta(days=200)).isoformat(),
        "maskedValue": "••••••••" + key[-4:],
        "lastCheck": {
            "at": event["detail"]["lastCheck"]["at"],
            "outcome": "rejected",
            "detail": "api_key_invalid",
        },
    }
    assert key not in json.dumps(event)


# --- Atlassian failures: no flapping, retried with backoff ---------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "code"), [("error", "atlassian_error"), (RATE_LIMITED, "atlassian_unavailable")]
)
def test_an_atlassian_failure_keeps_the_status_and_the_message_is_retried_later(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
    behaviour: str,
    code: str,
) -> None:
    # Given a valid key, and Atlassian failing on it from now on
    key = new_key(simulator)
    save_key(api, key)
    simulator.add_key(key, ORG_ID, ORG_NAME, behaviour=behaviour)
    deferred: list[int] = []
    original = CheckQueue.defer
    monkeypatch.setattr(
        CheckQueue, "defer", lambda self, handle, s: (deferred.append(s), original(self, handle, s))
    )

    # When
    checks.enqueue("acme")
    (message,) = checks.receive()
    response = checks.work([message])

    # Then the item is reported for retry, the status stays, the failure is recorded, nothing announced
    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert stored(aws, "apiKey")["status"] == "valid"
    assert stored(aws, "apiKey")["lastCheck"]["outcome"] == "error"
    assert stored(aws, "apiKey")["lastCheck"]["detail"] == code
    assert api.call("get_info").body["apiKey"]["status"] == "valid"
    assert checked_history(aws) == [("apiKey", "failed", code)]
    assert checks.events() == []
    # ... and comes back only after the backoff (60 s and jitter; the simulator's Retry-After is 7 s)
    assert len(deferred) == 1 and 60 <= deferred[0] <= 66
    assert checks.receive() == []


def test_a_check_whose_status_change_cannot_be_announced_is_recorded_retried_and_announced_next_time(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a key Atlassian no longer accepts, and EventBridge failing
    key = new_key(simulator)
    save_key(api, key)
    simulator.remove_key(key)
    recover = fail_publishing(monkeypatch, STATUS_CHANGED)

    # When the worker checks the tenant
    checks.enqueue("acme")
    (message,) = checks.receive()
    response = checks.work([message])

    # Then the message is retried, and the history records this check as failed
    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert checked_history(aws) == [("apiKey", "failed", "internal_error")]
    # And the next checks announce the change once, though the app was never told of the key's status
    # and the invalid status is already stored
    recover()
    assert checks.run("acme") == checks.run("acme") == {"batchItemFailures": []}
    assert [(e["detail"]["previousStatus"], e["detail"]["status"]) for e in checks.events()] == [
        ("valid", "invalid")
    ]


def test_a_date_change_is_announced_even_while_atlassian_fails(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a key a month from expiry, and Atlassian failing on it
    expires = TODAY + timedelta(days=30)
    key = new_key(simulator)
    save_key(api, key, expires_on=expires)
    simulator.add_key(key, ORG_ID, ORG_NAME, behaviour="error")

    # When the check runs five days before expiry
    move_clock(monkeypatch, expires - timedelta(days=5))
    response = checks.run("acme")

    # Then the expiry, which does not depend on Atlassian, is announced; the check is still retried
    assert len(response["batchItemFailures"]) == 1
    assert transitions(checks) == [("apiKey", "valid", "expiring")]
    assert stored(aws, "apiKey")["status"] == "valid"


def test_a_retried_check_succeeds_once_atlassian_is_back(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = new_key(simulator)
    save_key(api, key)
    simulator.remove_key(key)
    deferred: list[int] = []
    original = CheckQueue.defer
    monkeypatch.setattr(
        CheckQueue, "defer", lambda self, handle, s: (deferred.append(s), original(self, handle, s))
    )
    simulator.add_key(key, ORG_ID, ORG_NAME, behaviour="error")

    checks.enqueue("acme")
    (first,) = checks.receive()
    checks.work([first])
    checks.release(first)  # the backoff has passed
    simulator.add_key(key, ORG_ID, ORG_NAME)
    (again,) = checks.receive()
    response = checks.work([again])

    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    assert response == {"batchItemFailures": []}
    assert stored(aws, "apiKey")["lastCheck"]["outcome"] == "ok"
    assert checked_history(aws) == [("apiKey", "failed", "atlassian_error"), ("apiKey", "succeeded", None)]
    assert checks.events() == []
    assert 60 <= deferred[0] <= 66


def test_only_the_failed_items_of_a_batch_are_reported(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks
) -> None:
    save_key(api, new_key(simulator), tenant="acme")
    save_key(api, new_key(simulator, behaviour="ok"), tenant="beta")
    failing = new_key(simulator)
    save_key(api, failing, tenant="gamma")
    simulator.add_key(failing, ORG_ID, ORG_NAME, behaviour="error")

    checks.enqueue("acme", "beta", "gamma")
    messages = checks.receive()
    response = checks.work(messages)

    gamma = next(m for m in messages if tenant_id("gamma") in m["Body"])
    assert response == {"batchItemFailures": [{"itemIdentifier": gamma["MessageId"]}]}
    assert stored(aws, "apiKey", "acme")["lastCheck"]["outcome"] == "ok"
    assert stored(aws, "apiKey", "gamma")["lastCheck"]["outcome"] == "error"


def save_both(api: Api, simulator: AtlassianSimulator, tenants: list[str]) -> None:
    for tenant in tenants:
        save_key(api, new_key(simulator), tenant=tenant)
        token = {"email": "ada@acme.test", "apiToken": new_token(simulator)}
        assert api.call("change_token", body=token, tenant=tenant).status == 200


def test_a_batch_with_more_checks_than_one_history_write_records_every_check(
    api: Api, aws: dict[str, str], simulator: AtlassianSimulator, checks: Checks
) -> None:
    # Given 13 tenants with a key and a token each: 26 checks, one more than a BatchWriteItem holds
    tenants = [f"tenant-{i:02d}" for i in range(13)]
    save_both(api, simulator, tenants)

    response = checks.run(*tenants)

    assert response == {"batchItemFailures": []}
    for tenant in tenants:
        assert sorted(checked_history(aws, tenant)) == [
            ("apiKey", "succeeded", None),
            ("apiToken", "succeeded", None),
        ]


def test_a_history_write_that_fails_sends_the_whole_batch_back(
    api: Api, simulator: AtlassianSimulator, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a batch whose first full history write (made while the checks still run) fails
    tenants = [f"tenant-{i:02d}" for i in range(13)]
    save_both(api, simulator, tenants)
    add_events = History.add_events

    def fail_a_full_write(self: History, pending: Any) -> None:
        if len(pending) == 25:
            raise RuntimeError("DynamoDB is unavailable")
        add_events(self, pending)

    monkeypatch.setattr(History, "add_events", fail_a_full_write)

    # Then the invocation fails, so Lambda returns every message of the batch to the queue
    with pytest.raises(RuntimeError, match="DynamoDB is unavailable"):
        checks.run(*tenants)


def test_a_message_that_is_not_a_check_request_fails_and_goes_back(checks: Checks) -> None:
    checks.sqs.send_message(QueueUrl=checks.queue_url, MessageBody="not json")
    (message,) = checks.receive()

    response = checks.work([message])

    assert response == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}


def test_a_tenant_without_credentials_or_gone_is_done(checks: Checks, api: Api) -> None:
    api.call("get_info", tenant="beta")

    assert checks.run("beta", "never-installed") == {"batchItemFailures": []}
    assert checks.events() == []


# --- a change made while the check ran wins ------------------------------------------------------


def test_a_change_made_during_a_check_wins_over_its_result(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a revoked key, and an admin who saves a new one after the worker loaded the old one
    old, new = new_key(simulator), new_key(simulator)
    save_key(api, old)
    simulator.remove_key(old)
    store_class = type(wiring.check_services().core.tenants)
    load_for_checks = store_class.load_for_checks

    def load_then_change(self: Any, tenant_ids: Any) -> Any:
        states = load_for_checks(self, tenant_ids)
        save_key(api, new)
        return states

    monkeypatch.setattr(store_class, "load_for_checks", load_then_change)

    # When
    response = checks.run("acme")

    # Then the new key stands, nothing is announced, and the check of the old one is in the history
    assert response == {"batchItemFailures": []}
    info = api.call("get_info").body["apiKey"]
    assert (info["status"], info["maskedValue"]) == ("valid", "••••••••" + new[-4:])
    assert checks.events() == []
    # (the old key's secret was deleted with the change: the check found nothing left to check)
    assert checked_history(aws) == []


# --- metrics ------------------------------------------------------------------------------------


def test_the_worker_emits_one_value_per_metric(
    api: Api, simulator: AtlassianSimulator, checks: Checks, capsys: pytest.CaptureFixture[str]
) -> None:
    key = new_key(simulator)
    save_key(api, key)
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": new_token(simulator)})
    simulator.remove_key(key)
    capsys.readouterr()

    checks.run("acme")

    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    values = {k: v for blob in metrics for k, v in blob.items() if k in ALL_METRICS}
    assert values == {
        "CredentialsChecked": [2.0],
        "CredentialsValid": [1.0],
        "CredentialsInvalid": [1.0],
        "CredentialStatusChanged": [1.0],
    }


def emitted_share(out: str) -> list[float]:
    blobs = [json.loads(line) for line in out.splitlines() if '"_aws"' in line]
    return [v for blob in blobs for v in blob.get("ScheduledChecksUnreachablePercent", [])]


def test_the_worker_reports_the_share_of_first_attempts_that_could_not_reach_atlassian(
    api: Api, simulator: AtlassianSimulator, checks: Checks, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a tenant whose key Atlassian answers with 500 and whose token it accepts
    key = new_key(simulator)
    save_key(api, key)
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": new_token(simulator)})
    simulator.add_key(key, ORG_ID, ORG_NAME, behaviour=ERROR)
    capsys.readouterr()

    # When the scheduled check runs, and then its retry
    checks.enqueue("acme")
    (message,) = checks.receive()
    checks.work([message])
    first = emitted_share(capsys.readouterr().out)
    checks.release(message)
    checks.work(checks.receive())
    retry = emitted_share(capsys.readouterr().out)

    # Then the first attempt reports 1 of 2 checks; the retry, the same failure again, reports nothing
    assert first == [50.0]
    assert retry == []


ALL_METRICS = {
    "CredentialsChecked",
    "CredentialsValid",
    "CredentialsInvalid",
    "CredentialsExpiring",
    "CredentialsExpired",
    "CheckErrors",
    "CredentialStatusChanged",
}
