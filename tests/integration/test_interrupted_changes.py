"""A change interrupted after each single AWS call never loses the old credential, and a retry with
the same Idempotency-Key converges to the uninterrupted result.

Two ways to be interrupted: an exception raised after the call (the code's own error handling runs),
and a crash (a BaseException, as when Lambda is killed mid-flight: no cleanup runs at all).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from api_info.credentials import API_KEY
from api_info.wiring import services
from local.atlassian_sim import AtlassianSimulator
from local.dev_issuer import installation
from tests.support.harness import Api
from tests.support.state import secret_name, tenant_secrets

OLD, NEW = "sim-admin-key-unscoped-GOOD1", "sim-admin-key-new-NEW1"


class Crash(BaseException):
    """Stands for the Lambda being killed: nothing catches it."""


class Interrupt:
    """A botocore hook that fails once, right after the n-th AWS call has gone through."""

    def __init__(self, at: int, kind: type[BaseException]) -> None:
        self.at, self.kind, self.calls = at, kind, []  # type: list[str]

    def __call__(self, model: Any, **kwargs: Any) -> None:
        self.calls.append(model.name)
        if len(self.calls) == self.at:
            raise self.kind(f"injected failure after {model.name}")


@contextmanager
def interrupted(hook: Interrupt) -> Iterator[Interrupt]:
    clients = [services().tenants.dynamodb, services().secrets.client]
    for client in clients:
        client.meta.events.register("after-call.*.*", hook, unique_id="interrupt")
    try:
        yield hook
    finally:
        for client in clients:
            client.meta.events.unregister("after-call.*.*", unique_id="interrupt")


def state(api: Api, tenant: str) -> tuple[str, str, str]:
    """(masked value shown, value of the version the app uses, value labelled AWSCURRENT in the secret
    the record names)."""
    shown = api.call("get_info", tenant=tenant).body
    tenant_id = shown["tenant"]["installationId"]
    used = services().reader.current(tenant_id, API_KEY, refresh=True)
    name = secret_name(tenant_id, "apiKey")
    current = boto3.client("secretsmanager").get_secret_value(SecretId=name, VersionStage="AWSCURRENT")
    assert used is not None
    return shown["apiKey"]["maskedValue"], used.value.get_secret_value(), current["SecretString"]


def unknown_secrets(tenant_id: str) -> set[str]:
    """The tenant's secrets that its credential item neither uses nor lists for deletion: none may be."""
    item = boto3.client("dynamodb").get_item(
        TableName=services().settings.table_name,
        Key={"PK": {"S": f"TENANT#{tenant_id}"}, "SK": {"S": "CRED#apiKey"}},
    )["Item"]
    known = {item["secretName"]["S"], *item.get("retiredSecrets", {}).get("SS", [])}
    known |= set(item.get("stagedSecrets", {}).get("SS", []))
    return set(tenant_secrets(tenant_id)) - known


def calls_of_an_uninterrupted_change(api: Api) -> list[str]:
    # The first keyed change of a container also reads the fingerprint key; it is cached after that.
    api.call("change_key", body={"apiKey": OLD}, tenant="warm-up", headers={"Idempotency-Key": "k"})
    api.call("change_key", body={"apiKey": OLD}, tenant="count")
    with interrupted(Interrupt(at=0, kind=RuntimeError)) as hook:
        answer = api.call(
            "change_key", body={"apiKey": NEW}, tenant="count", headers={"Idempotency-Key": "k"}
        )
    assert answer.status == 200
    return hook.calls


@pytest.fixture
def new_key(simulator: AtlassianSimulator) -> None:
    simulator.add_key(NEW, org_id="sim-org-acme", org_name="Acme (simulated)")


@pytest.mark.parametrize("kind", [RuntimeError, Crash], ids=["exception", "crash"])
def test_an_interruption_after_any_call_loses_nothing_and_a_retry_converges(
    api: Api, new_key: None, kind: type[BaseException]
) -> None:
    api.remaining_ms = 1000  # so that an in-progress marker left by a crash expires within a second
    calls = calls_of_an_uninterrupted_change(api)
    assert len(calls) >= 6, calls

    for at in range(1, len(calls) + 1):
        tenant = f"interrupt-{kind.__name__}-{at}"
        # Given a site with a working key
        assert api.call("change_key", body={"apiKey": OLD}, tenant=tenant).status == 200

        # When a keyed change to a new key is interrupted right after its at-th AWS call
        with interrupted(Interrupt(at, kind)):
            try:
                status = api.call(
                    "change_key", body={"apiKey": NEW}, tenant=tenant, headers={"Idempotency-Key": "change"}
                ).status
            except Crash:
                status = None

        # Then the app uses a validated key, and what the page shows is exactly what the app uses
        shown, used, _ = state(api, tenant)
        tenant_id = installation(tenant)["installationId"]
        assert unknown_secrets(tenant_id) == set(), (at, calls[at - 1])  # none that nobody would delete
        expected = NEW if status == 200 else None
        assert used in (OLD, NEW), (at, calls[at - 1])
        assert shown == "••••••••" + used[-4:], (at, calls[at - 1])
        if expected:
            assert used == NEW
        elif status is not None:
            assert used == OLD, f"an error answer after {calls[at - 1]} changed the credential"

        # And retrying with the same key converges to the uninterrupted result
        for _ in range(3):
            retry = api.call(
                "change_key", body={"apiKey": NEW}, tenant=tenant, headers={"Idempotency-Key": "change"}
            )
            if retry.status != 409:
                break
            time.sleep(1.1)  # a crash left the in-progress marker; it expires with the invocation
        assert retry.status == 200, (at, calls[at - 1], retry.body)
        assert state(api, tenant) == ("••••••••NEW1", NEW, f'{{"apiKey": "{NEW}"}}'), (at, calls[at - 1])
        # and once done, the new key's secret is the only one: the former was deleted with every version
        assert list(tenant_secrets(tenant_id).values()) == [[f'{{"apiKey": "{NEW}"}}']], (at, calls[at - 1])
