"""docs/API.md §4 over the real local stack: a token's expiry read from the simulated Atlassian, as the
README's walkthrough shows it, and the reminder a check then publishes on the stack's event bus."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3

from local.dev_issuer import installation
from tests.e2e.conftest import Stack

STACK = "api-info-local"
EVE = {"email": "eve@acme.test", "apiToken": "sim-token-expiry-one-EXP1"}


def capture_reminders(stack: Stack) -> tuple[Any, str]:
    """A queue of the stack's moto receiving every "Credential expiry reminder" on its event bus."""
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    events, sqs = (session.client(s, endpoint_url=stack.aws_url) for s in ("events", "sqs"))
    (described,) = session.client("cloudformation", endpoint_url=stack.aws_url).describe_stacks(
        StackName=STACK
    )["Stacks"]
    bus = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}["CredentialEventBusName"]
    url = sqs.create_queue(QueueName="e2e-expiry-reminders")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["flexible-user-license.api-info"], "detail-type": ["Credential expiry reminder"]}
    events.put_rule(Name="e2e-expiry-reminders", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="e2e-expiry-reminders", EventBusName=bus, Targets=[{"Id": "e2e", "Arn": arn}])
    return sqs, url


def received(sqs: Any, url: str, seconds: float = 10) -> list[dict[str, Any]]:
    deadline, found = time.monotonic() + seconds, []
    while not found and time.monotonic() < deadline:
        found = [
            json.loads(m["Body"])
            for m in sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get("Messages", [])
        ]
    return found


def test_a_tokens_expiry_comes_from_the_simulated_atlassian_and_a_check_reminds_of_it(stack: Stack) -> None:
    site = "e2e-expiry"
    sqs, url = capture_reminders(stack)

    # Given the organization's key, then Eve's token, whose expiry nobody enters
    key = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
    assert (
        stack.http.put("/api-info/key", headers=stack.headers(installation=site), json=key).status_code == 200
    )
    saved = stack.http.put("/api-info/token", headers=stack.headers(installation=site), json=EVE)

    # Then the date is Atlassian's: Eve's token expires in 6.5 days (the simulator's listing), so
    # daysLeft is 6, or 7 when the stack runs after noon UTC
    assert saved.status_code == 200, saved.text
    token = stack.http.get("/api-info", headers=stack.headers(installation=site)).json()["apiToken"]
    expected = (datetime.now(UTC) + timedelta(days=6.5)).date()
    assert token["expiresOnSource"] == "atlassian"
    assert token["expiresOn"] == expected.isoformat()
    assert token["daysLeft"] == (expected - datetime.now(UTC).date()).days in (6, 7)
    assert token["status"] == "expiring"

    # When a check runs, the app is reminded once, at the 7-day threshold
    checked = stack.http.post("/api-info/check", headers=stack.headers(installation=site))
    assert checked.status_code == 200, checked.text
    (event,) = received(sqs, url)
    assert event["detail"] == {
        "tenantId": installation(site)["installationId"],
        "credential": "apiToken",
        "expiresOn": token["expiresOn"],
        "daysLeft": token["daysLeft"],
        "threshold": 7,
    }
    assert received(sqs, url, seconds=2) == []  # and only once
