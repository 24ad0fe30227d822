"""No key or token reaches a check's log line, metric, queue message, event or history item; no email or
display name reaches its log lines."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
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
# Eve's token is listed by the organization (its expiry is read from Atlassian), with other people's.
PERSONAL = ["eve@acme.test", "Eve Expiring", "staff01@acme.test", "Staff 01", *DISPLAY_NAMES.values()]
SOON = (datetime.now(UTC).date() + timedelta(days=10)).isoformat()  # within REMINDER_DAYS: reminded


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
    simulator.add_token("eve@acme.test", TOKEN, "sim-account-eve", "Eve Expiring")
    api.call("change_key", body={"apiKey": KEY, "expiresOn": SOON})
    api.call("change_token", body={"email": "eve@acme.test", "apiToken": TOKEN})
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        checks.dispatch()
        checks.work(checks.receive())  # ok
        simulator.add_key(KEY, ORG_ID, ORG_NAME, behaviour="error")
        simulator.add_token(
            "eve@acme.test", TOKEN, "sim-account-eve", "Eve Expiring", behaviour="rate_limited"
        )
        checks.run("acme")  # Atlassian failing
        simulator.remove_key(KEY)
        simulator.remove_token("eve@acme.test", TOKEN)
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
        "reminders": [json.dumps(e) for e in checks.reminders()],
        "worker answers": [json.dumps(r) for r in checks.responses],
    }
    assert len(checks.events()) == 2 and "CredentialsChecked" in out  # the flows really ran
    assert len(checks.reminders()) == 2  # the key's (entered date) and the token's (read from Atlassian)
    assert '"expiresOnSource": {"S": "atlassian"}' in "".join(seen["dynamodb items"])
    for where, text in seen.items():
        blob = text if isinstance(text, str) else "\n".join(text)
        assert KEY not in blob and TOKEN not in blob, f"a secret was found in {where}"
    for reminder in seen["reminders"]:  # no masked value, no email, in a reminder either
        assert KEY[-4:] not in reminder and TOKEN[-4:] not in reminder and "@" not in reminder
    assert "Eve Expiring" in "".join(seen["dynamodb items"])  # the names really went through the checks
    for where in ("stdout", "stderr", "log records"):
        blob = seen[where] if isinstance(seen[where], str) else "\n".join(seen[where])
        found = [p for p in PERSONAL if p in blob]
        assert not found, f"personal data found in {where}: {found}"
