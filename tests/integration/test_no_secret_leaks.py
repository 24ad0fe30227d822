"""No key or token ever reaches an answer, a log line, a metric, or a DynamoDB item: every flow, one sweep,
with the service's logger at DEBUG and botocore, urllib3, httpx and Powertools' own loggers at DEBUG too.
No email or display name reaches a log line either (answers and items hold them, by design)."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from api_info import observability, settings, wiring
from api_info.credentials import kind_named
from api_info.observability import logger
from local.atlassian_sim import DISPLAY_NAMES, AtlassianSimulator
from tests.support.harness import ADMIN, NOT_ADMIN, OPERATOR, SYSTEM_TOKEN, Api

KEYS = [
    "sim-admin-key-unscoped-GOOD1",
    "sim-admin-key-scoped-SCOP1",
    "sim-admin-key-no-org-NORG1",
    "sim-admin-key-wrong-LEAK1",
    "sim-admin-key-error-ERR5",
    "sim-admin-key-ratelimited-R429",
    "sim-admin-key-slow-SLOW",
]
TOKENS = [
    ("ada@acme.test", "sim-token-classic-GOOD2"),
    ("ada@acme.test", "sim-token-scoped-SCP2"),
    ("ina@acme.test", "sim-token-inactive-INA2"),
    ("alias@acme.test", "sim-token-alias-ALS2"),
    ("ada@acme.test", "sim-token-wrong-LEAK2"),
    ("ada@acme.test", "sim-token-error-ERR5"),
    ("ada@acme.test", "sim-token-ratelimited-R429"),
    ("ada@acme.test", "sim-token-slow-SLOW"),
]
# Secrets sent in bodies that fail validation must not be echoed either.
INVALID = ["leaky secret with spaces", "leaky-secret-too-long-" + "z" * 1010]
# Personal data the flows carry: the token owners' emails and names (the simulator's /myself), and the
# administrators' names (its user lookup). Answers and DynamoDB items hold them; no log line may.
# The personal data cycle renames the administrator (an `updated` account) and erases the token owner.
RENAMED = "Sam Renamed (simulated)"
PERSONAL = sorted(
    {email for email, _ in TOKENS} | {"Ada Admin", "Ina Inactive", RENAMED, *DISPLAY_NAMES.values()}
)


def scan(tables: list[str]) -> list[str]:
    dynamodb = boto3.client("dynamodb")
    return [
        json.dumps(item, ensure_ascii=False)
        for table in tables
        for item in dynamodb.scan(TableName=table)["Items"]
    ]


def run_every_flow(api: Api, tables: list[str], sim: AtlassianSimulator) -> list[str]:
    """Every flow; returns what DynamoDB held just before the site was uninstalled."""
    api.call("get_info")
    for key in KEYS:
        api.call("change_key", body={"apiKey": key})
        api.call("change_key", body={"apiKey": key, "expiresOn": "1999-01-01"})
        api.call("change_key", body={"apiKey": key}, account=NOT_ADMIN)
        api.call("change_key", raw_body=json.dumps({"apiKey": key, "pad": "p" * 8300}))
    for email, token in TOKENS:
        api.call("change_token", body={"email": email, "apiToken": token})
        api.call("change_token", body={"email": "not an email", "apiToken": token})
    for bad in INVALID:
        api.call("change_key", body={"apiKey": bad})
        api.call("change_token", body={"email": "ada@acme.test", "apiToken": bad})
        api.call("change_key", raw_body='{"apiKey": "' + bad + '"')
    api.call("change_key", body={"apiKey": KEYS[0]}, headers={"Idempotency-Key": "sweep"})
    api.call("change_key", body={"apiKey": KEYS[0]}, headers={"Idempotency-Key": "sweep"})
    api.call("change_key", body={"apiKey": KEYS[1]}, headers={"Idempotency-Key": "sweep"})
    api.call("get_info")
    api.call("history", query={"limit": "100"})
    # the operators' routes, and the reader the rest of the app uses (GetSecretValue's answer)
    api.call("change_key", body={"apiKey": KEYS[0]}, operator=OPERATOR)
    api.call("change_token", body={"email": TOKENS[0][0], "apiToken": TOKENS[0][1]}, operator=OPERATOR)
    api.call("get_info", operator=OPERATOR)
    api.call("history", operator=OPERATOR)
    tenant_id = api.call("get_info").body["tenant"]["installationId"]
    for credential in ("apiKey", "apiToken"):
        current = wiring.services().reader.current(tenant_id, kind_named(credential), refresh=True)
        assert current is not None
    # the personal data cycle: Forge's trigger (a name refreshed), an administrator's, the operators' twin
    sim.privacy.updated = {ADMIN: RENAMED}
    assert api.call("personal_data", account=None).body["updated"] == 1
    api.call("history", query={"limit": "100"})
    api.call("personal_data", account=NOT_ADMIN)
    api.call(
        "ops_personal_data", operator=OPERATOR, body={"accountId": "sim-account-ada", "status": "closed"}
    )
    sim.privacy.closed, sim.privacy.updated = {ADMIN}, {}
    api.call("ops_personal_data", operator=OPERATOR, body={"accountId": ADMIN, "status": "updated"})
    assert api.call("personal_data").body["closed"] == 1
    api.call("delete_token", operator=OPERATOR)
    api.call("delete_key")
    api.call("delete_token")
    api.call("change_key", body={"apiKey": KEYS[0]})
    items = scan(tables)
    api.call("uninstalled", account=None)
    return items + scan(tables)


class ToStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (capfd swaps it per test)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


@pytest.fixture
def talkative_logging(monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]) -> Iterator[None]:
    """The most talkative logging anyone could configure: every logger involved at DEBUG, to stderr."""
    monkeypatch.setenv("CHANGE_ATTEMPTS_LIMIT", "1000")  # the sweep is far faster than a person
    settings.get_settings.cache_clear()
    wiring.services.cache_clear()
    names = ("botocore", "boto3", "urllib3", "httpx", "httpcore", "aws_lambda_powertools")
    before = {name: (logging.getLogger(name).level, list(logging.getLogger(name).handlers)) for name in names}
    boto3.set_stream_logger("botocore", logging.DEBUG)  # what AWS's docs suggest for debugging
    for name in names:
        logging.getLogger(name).handlers = [ToStderr()]
        logging.getLogger(name).setLevel(logging.DEBUG)
    logging.getLogger("botocore.endpoint").setLevel(logging.DEBUG)
    logger.setLevel(logging.DEBUG)
    yield
    logger.setLevel(logging.INFO)
    logging.getLogger("botocore.endpoint").setLevel(logging.NOTSET)
    for name, (level, handlers) in before.items():
        logging.getLogger(name).handlers = handlers
        logging.getLogger(name).setLevel(level)
    observability.install_log_redaction()


def test_no_secret_appears_anywhere(
    api: Api,
    aws: dict[str, str],
    talkative_logging: None,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    simulator: AtlassianSimulator,
) -> None:
    # Given the most talkative logging there is
    caplog.set_level(logging.DEBUG)

    # When every flow runs
    items = run_every_flow(api, [aws["TABLE_NAME"]], simulator)

    # Then
    out, err = capfd.readouterr()
    seen: dict[str, Any] = {
        "answers": [a.raw + json.dumps(a.headers) for a in api.answers],
        "stdout": out,
        "stderr": err,
        "log records": [r.getMessage() + repr(r.__dict__) for r in caplog.records],
        "dynamodb items": items,
    }
    secrets = [*KEYS, *(t for _, t in TOKENS), *INVALID, SYSTEM_TOKEN]
    assert len(api.answers) >= 50 and len(items) > 10 and out  # the sweep really ran and logged
    assert "Making request for" in err and "Response body" in err  # botocore really talked at DEBUG
    for where, text in seen.items():
        blob = text if isinstance(text, str) else "\n".join(text)
        leaked = [s for s in secrets if s in blob]
        assert not leaked, f"{len(leaked)} secret(s) found in {where}"
    # the personal data really went through: answers and items hold it, where it belongs
    assert "ada@acme.test" in "\n".join(seen["answers"]) and DISPLAY_NAMES[ADMIN] in "\n".join(items)
    assert RENAMED in "\n".join(seen["answers"])
    for where in ("stdout", "stderr", "log records"):
        text = seen[where]
        blob = text if isinstance(text, str) else "\n".join(text)
        found = [p for p in PERSONAL if p in blob]
        assert not found, f"personal data found in {where}: {found}"


def test_without_the_control_botocore_debug_output_would_carry_the_secret(
    api: Api, talkative_logging: None, capfd: pytest.CaptureFixture[str]
) -> None:
    # Proves the sweep above can see a leak: take the control away, and botocore prints the secret
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(factory.inner)  # type: ignore[attr-defined]
    try:
        api.call("change_key", body={"apiKey": KEYS[0]})
    finally:
        logging.setLogRecordFactory(factory)

    assert KEYS[0] in capfd.readouterr().err
