"""The dispatcher on the schedule's sample event: every tenant, once, in few DynamoDB calls."""

from __future__ import annotations

import json
from typing import Any

import pytest

from api_info import wiring
from tests.support.checks import Checks, tenant_id
from tests.support.harness import Api, reset_container_caches

TENANTS = ["acme", "beta", "gamma", "delta", "epsilon"]


def test_the_schedule_sends_every_tenant_to_the_queue_once(api: Api, checks: Checks) -> None:
    # Given five installations
    for name in TENANTS:
        api.call("get_info", tenant=name)

    # When the schedule fires (events/schedule.json)
    answer = checks.dispatch()

    # Then
    bodies = [json.loads(m["Body"]) for m in checks.receive()]
    assert answer == {"tenants": 5}
    assert sorted(b["tenantId"] for b in bodies) == sorted(tenant_id(n) for n in TENANTS)
    assert {b["requestedAt"] for b in bodies} == {"2026-11-28T03:00:00Z"}  # the sample's scheduledTime


def test_the_dispatcher_reads_the_tenants_index_a_page_per_call(
    api: Api, checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in TENANTS:
        api.call("get_info", tenant=name)
    monkeypatch.setenv("CHECK_DISPATCH_PAGE_SIZE", "2")
    reset_container_caches()
    calls: list[str] = []
    wiring.dynamodb_client().meta.events.register(
        "before-call.dynamodb", lambda model, **_: calls.append(model.name)
    )

    answer = checks.dispatch()

    assert answer == {"tenants": 5}
    assert calls == ["Query"] * 3  # pages of 2, 2 and 1
    assert len(checks.receive()) == 5


def test_with_no_tenant_the_dispatcher_sends_nothing(checks: Checks) -> None:
    assert checks.dispatch() == {"tenants": 0}
    assert checks.receive() == []


def test_dispatched_messages_are_what_the_worker_consumes(
    api: Api, aws: dict[str, str], checks: Checks, table_items: Any
) -> None:
    api.call("change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1"})
    api.call("get_info", tenant="beta")
    checks.dispatch()

    response = checks.work(checks.receive())

    assert response == {"batchItemFailures": []}
    key = next(i for i in table_items() if i["SK"]["S"] == "CRED#apiKey")
    assert key["lastCheck"]["M"]["outcome"]["S"] == "ok"
