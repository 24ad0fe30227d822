"""Fixtures: moto with template.yaml's own resources, the Atlassian simulator, a JWKS over real HTTP."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from local.atlassian_sim import AtlassianSimulator
from local.dev_issuer import DevTokenIssuer
from local.resources import create_from_template
from tests.support.harness import APP_ID, REPO, Api, JwksServer, load_handlers, reset_container_caches


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[object]:
    """No garbage collection while a test runs (its fixtures included); it runs between tests.

    Late in the suite the process holds so much that a full collection stops every thread for 1 to 2 s
    (measured: 232 in one run of the integration, local and end-to-end tests, the longest 2.2 s), and one
    that fell inside an exchange with the simulator made it miss the tests' 1 s Atlassian deadline: a
    flaky 503. A function's own process holds a small fraction of that.
    """
    gc.disable()
    try:
        return (yield)
    finally:
        gc.enable()


@pytest.fixture(scope="session")
def simulator() -> Iterator[AtlassianSimulator]:
    sim = AtlassianSimulator()
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def issuer() -> DevTokenIssuer:
    return DevTokenIssuer(APP_ID)


@pytest.fixture(scope="session")
def jwks(issuer: DevTokenIssuer) -> Iterator[JwksServer]:
    server = JwksServer(issuer.jwks())
    yield server
    server.stop()


# moto's in-process DynamoDB evaluates a write's condition and applies the write without a lock, so two
# threads can both pass the same condition (measured: about one round in fifteen, eight threads at once);
# DynamoDB does both atomically, per item. The change lock, the check reservation and the reminder claim
# rely on that, so their races are tested against writes made atomic here (one lock for every write).
ATOMIC_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items")


def make_dynamodb_writes_atomic(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = threading.RLock()  # re-entrant: a transaction applies its items through the other writes
    for name in ATOMIC_WRITES:
        original = getattr(DynamoDBBackend, name)

        def atomic(self: DynamoDBBackend, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            with lock:
                return _original(self, *args, **kwargs)

        monkeypatch.setattr(DynamoDBBackend, name, atomic)


@pytest.fixture
def aws(
    monkeypatch: pytest.MonkeyPatch, simulator: AtlassianSimulator, jwks: JwksServer
) -> Iterator[dict[str, str]]:
    """In-memory AWS holding template.yaml's tables and key, and the functions' environment pointing at it."""
    make_dynamodb_writes_atomic(monkeypatch)
    for name, value in {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        env = create_from_template(REPO / "template.yaml", parameter_overrides={"ForgeAppId": APP_ID})
        env.update(
            {
                "FORGE_APP_ID": APP_ID,
                "FORGE_JWKS_URL": jwks.url,
                "ATLASSIAN_API_URL": simulator.url,
                "ALLOW_INSECURE_LOOPBACK": "true",
                "ATLASSIAN_TIMEOUT_SECONDS": "1",
            }
        )
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        reset_container_caches()
        simulator.reset()
        simulator.slow_seconds = 2
        yield env
        reset_container_caches()


@pytest.fixture(scope="session")
def handlers() -> dict[Any, Any]:
    return load_handlers()


@pytest.fixture
def api(
    aws: dict[str, str], handlers: dict[Any, Any], issuer: DevTokenIssuer, simulator: AtlassianSimulator
) -> Api:
    return Api(handlers, issuer, simulator.url)


@pytest.fixture
def table_items(aws: dict[str, str]) -> Any:
    """A function returning every item of the credentials table (a test's view of what DynamoDB holds)."""

    def scan() -> list[dict[str, Any]]:
        client = boto3.client("dynamodb")
        return client.scan(TableName=aws["TABLE_NAME"])["Items"]

    return scan
