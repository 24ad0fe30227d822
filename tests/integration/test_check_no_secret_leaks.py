"""No key or token reaches a check's log line, metric, queue message, event or history item; no email or
display name reaches its log lines."""

from __future__ import annotations

import json
import logging
from typing import Any

import boto3
import pytest

from api_info.observability import logger
from local.atlassian_sim import DISPLAY_NAMES, ORG_ID, ORG_NAME, AtlassianSimulator
from tests.support.checks import Checks
from tests.support.harness import Api

KEY = "sim-admin-key-leakcheck-KEYLEAK"
TOKEN = "sim-token-leakcheck-TOKLEAK"
# The token owner's email and name, and the administrators' names: items and answers hold them, logs may not.
PERSONAL = ["ada@acme.test", "Ada Admin", *DISPLAY_NAMES.values()]


def test_no_secret_appears_in_what_the_checks_leave_behind(
    api: Api,
    aws: dict[str, str],
    simulator: AtlassianSimulator,
    checks: Checks,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given a key and a token, checked at the most talkative log level through every outcome
    simulator.add_key(KEY, ORG_ID, ORG_NAME)
    simulator.add_token("ada@acme.test", TOKEN, "sim-account-ada", "Ada Admin")
    api.call("change_key", body={"apiKey": KEY})
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": TOKEN})
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        checks.dispatch()
        checks.work(checks.receive())  # ok
        simulator.add_key(KEY, ORG_ID, ORG_NAME, behaviour="error")
        simulator.add_token("ada@acme.test", TOKEN, "sim-account-ada", "Ada Admin", behaviour="rate_limited")
        checks.run("acme")  # Atlassian failing
        simulator.remove_key(KEY)
        simulator.remove_token("ada@acme.test", TOKEN)
        api.call("check_now")  # both refused: announced
    finally:
        logger.setLevel(logging.INFO)

    # Then
    dynamodb = boto3.client("dynamodb")
    out, err = capfd.readouterr()
    seen: dict[str, Any] = {
        "answers": [a.raw for a in api.answers],
        "stdout": out,
        "stderr": err,
        "log records": [r.getMessage() + repr(r.__dict__) for r in caplog.records],
        "dynamodb items": [json.dumps(i) for i in dynamodb.scan(TableName=aws["TABLE_NAME"])["Items"]],
        "events": [json.dumps(e) for e in checks.events()],
        "worker answers": [json.dumps(r) for r in checks.responses],
    }
    assert len(checks.events()) == 2 and "CredentialsChecked" in out  # the flows really ran
    for where, text in seen.items():
        blob = text if isinstance(text, str) else "\n".join(text)
        assert KEY not in blob and TOKEN not in blob, f"a secret was found in {where}"
    assert "Ada Admin" in "".join(seen["dynamodb items"])  # the names really went through the checks
    for where in ("stdout", "stderr", "log records"):
        blob = seen[where] if isinstance(seen[where], str) else "\n".join(seen[where])
        found = [p for p in PERSONAL if p in blob]
        assert not found, f"personal data found in {where}: {found}"
