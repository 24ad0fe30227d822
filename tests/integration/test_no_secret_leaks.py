"""No key or token ever reaches an answer, a log line, a metric, or a DynamoDB item: every flow, one sweep."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest

from api_info.observability import logger
from tests.support.harness import NOT_ADMIN, Api

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


def scan(tables: list[str]) -> list[str]:
    dynamodb = boto3.client("dynamodb")
    return [
        json.dumps(item, ensure_ascii=False)
        for table in tables
        for item in dynamodb.scan(TableName=table)["Items"]
    ]


def run_every_flow(api: Api, tables: list[str]) -> list[str]:
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
    api.call("delete_key")
    api.call("delete_token")
    api.call("change_key", body={"apiKey": KEYS[0]})
    items = scan(tables)
    api.call("uninstalled", account=None)
    return items + scan(tables)


def test_no_secret_appears_anywhere(
    api: Api, aws: dict[str, str], capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given the most talkative logging the service allows
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        # When every flow runs
        items = run_every_flow(api, [aws["TABLE_NAME"], aws["IDEMPOTENCY_TABLE_NAME"]])
    finally:
        logger.setLevel(logging.INFO)

    # Then
    out, err = capfd.readouterr()
    seen: dict[str, Any] = {
        "answers": [a.raw + json.dumps(a.headers) for a in api.answers],
        "stdout": out,
        "stderr": err,
        "log records": [r.getMessage() + repr(r.__dict__) for r in caplog.records],
        "dynamodb items": items,
    }
    secrets = KEYS + [t for _, t in TOKENS] + INVALID
    assert len(api.answers) >= 50 and len(items) > 10 and out  # the sweep really ran and logged
    for where, text in seen.items():
        blob = text if isinstance(text, str) else "\n".join(text)
        leaked = [s for s in secrets if s in blob]
        assert not leaked, f"{len(leaked)} secret(s) found in {where}"
