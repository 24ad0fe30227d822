"""The per-tenant limit on change attempts: 429 rate_limited with Retry-After, per tenant, nothing changed."""

from __future__ import annotations

import time
from typing import Any

import pytest

from api_info import settings, wiring
from local.dev_issuer import installation
from tests.support.harness import OPERATOR, Api
from tests.support.state import current_secret, history_items

GOOD = "sim-admin-key-unscoped-GOOD1"


@pytest.fixture
def limit_of_three(monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]) -> None:
    monkeypatch.setenv("CHANGE_ATTEMPTS_LIMIT", "3")
    # One window that does not end during the test (fixed windows restart at multiples of their length)
    monkeypatch.setenv("CHANGE_ATTEMPTS_WINDOW_SECONDS", "1000000000")
    settings.get_settings.cache_clear()
    wiring.services.cache_clear()


def test_the_attempt_over_the_limit_is_429_with_retry_after_and_changes_nothing(
    api: Api, aws: dict[str, str], limit_of_three: None
) -> None:
    # Given three attempts in this window, accepted or refused alike
    assert api.call("change_key", body={"apiKey": GOOD}).status == 200
    assert api.call("change_key", body={"apiKey": "sim-admin-key-wrong-XXXX"}).status == 422
    assert (
        api.call(
            "change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
        ).status
        == 200
    )
    tenant_id = installation("acme")["installationId"]
    events_before = len(history_items(aws["TABLE_NAME"], tenant_id))

    # When a fourth one comes
    answer = api.call("change_key", body={"apiKey": "sim-admin-key-scoped-SCOP1"})

    # Then it is refused before anything happens, and the caller is told when to come back
    assert answer.status == 429
    assert answer.body["error"]["code"] == "rate_limited"
    assert int(answer.headers["retry-after"]) >= 1
    assert current_secret(tenant_id, "apiKey") == {"apiKey": GOOD}
    assert len(history_items(aws["TABLE_NAME"], tenant_id)) == events_before
    assert api.call("get_info").body["apiKey"]["maskedValue"] == "••••••••OOD1"


def test_the_limit_is_per_tenant_and_covers_the_operators_routes(api: Api, limit_of_three: None) -> None:
    api.call("get_info")
    for _ in range(2):
        assert api.call("change_key", body={"apiKey": GOOD}).status == 200
    assert api.call("change_key", body={"apiKey": GOOD}, operator=OPERATOR).status == 200

    assert api.call("change_key", body={"apiKey": GOOD}, operator=OPERATOR).status == 429
    assert api.call("change_key", body={"apiKey": GOOD}).status == 429
    assert api.call("change_key", body={"apiKey": GOOD}, tenant="globex").status == 200


def test_refused_bodies_and_idempotent_replays_are_not_attempts(api: Api, limit_of_three: None) -> None:
    for _ in range(5):
        assert api.call("change_key", body={"apiKey": "has spaces"}).status == 422
        assert api.call("change_key", body={"apiKey": GOOD}, account="sim-user-0002").status == 403
    for _ in range(5):
        replay = api.call("change_key", body={"apiKey": GOOD}, headers={"Idempotency-Key": "once"})
        assert replay.status == 200

    assert api.call("change_key", body={"apiKey": GOOD}).status == 200
    assert api.call("change_key", body={"apiKey": GOOD}).status == 200
    assert api.call("change_key", body={"apiKey": GOOD}).status == 429


def test_a_new_window_starts_from_zero(
    api: Api, monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> None:
    monkeypatch.setenv("CHANGE_ATTEMPTS_LIMIT", "1")
    monkeypatch.setenv("CHANGE_ATTEMPTS_WINDOW_SECONDS", "2")
    settings.get_settings.cache_clear()
    wiring.services.cache_clear()
    api.call("change_key", body={"apiKey": GOOD})
    refused = api.call("change_key", body={"apiKey": GOOD})
    if refused.status == 200:  # the first attempt was the last of a window: this one opened the next
        refused = api.call("change_key", body={"apiKey": GOOD})
    assert refused.status == 429

    time.sleep(int(refused.headers["retry-after"]))

    assert api.call("change_key", body={"apiKey": GOOD}).status == 200


def test_a_keyed_change_makes_at_most_six_dynamodb_calls(api: Api) -> None:
    # Given a known site whose administrator check is cached and whose fingerprint key is read
    api.call("change_key", body={"apiKey": GOOD}, headers={"Idempotency-Key": "warm-up"})
    calls: list[str] = []

    def count(model: Any, **kwargs: Any) -> None:
        calls.append(model.name)

    client = wiring.dynamodb_client()
    client.meta.events.register("before-call.dynamodb.*", count, unique_id="count")
    try:
        # When a change with an Idempotency-Key succeeds
        answer = api.call("change_key", body={"apiKey": GOOD}, headers={"Idempotency-Key": "counted"})
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", unique_id="count")

    # Then idempotency, tenant record with rate limit, lock, commit, the former secret's name dropped once
    # it is deleted (issue 25) and idempotency answer: six calls
    assert answer.status == 200
    assert calls == [
        "PutItem",
        "TransactWriteItems",
        "UpdateItem",
        "TransactWriteItems",
        "UpdateItem",
        "UpdateItem",
    ]
