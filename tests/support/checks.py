"""Runs the dispatcher and the worker on the sample events, over moto's real queue, and captures events."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

import boto3
import pytest

from api_info.messaging import EventPublisher
from local import lambdas
from local.api_client import sample_event
from local.dev_issuer import installation
from local.lambdas import LambdaContext

STATUS_CHANGED = "Credential status changed"
EXPIRY_REMINDER = "Credential expiry reminder"


@cache
def function_module(logical_id: str) -> ModuleType:
    """The handler module of one function of template.yaml, loaded once per test session."""
    return lambdas.function_module(logical_id)


def fail_publishing(monkeypatch: pytest.MonkeyPatch, detail_type: str) -> Callable[[], None]:
    """Make EventBridge refuse events of `detail_type`; returns what makes it take them again."""
    original = EventPublisher.publish

    def failing(self: EventPublisher, kind: str, detail: Any) -> None:
        if kind == detail_type:
            raise RuntimeError("EventBridge did not take the event (InternalFailure)")
        original(self, kind, detail)

    monkeypatch.setattr(EventPublisher, "publish", failing)
    return lambda: monkeypatch.setattr(EventPublisher, "publish", original)


def sample(name: str) -> dict[str, Any]:
    return sample_event(name)


def tenant_id(name: str = "acme") -> str:
    return installation(name)["installationId"]


class Checks:
    """The check machinery of one test: the queue, the worker, the dispatcher and an event capture."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.sqs = boto3.client("sqs")
        self.queue_url = env["CHECK_QUEUE_URL"]
        self.responses: list[dict[str, Any]] = []
        # Rules on the service's bus send each kind of event to a queue of its own this test reads.
        self.capture_url = self._capture(STATUS_CHANGED, "captured-credential-events")
        self.reminders_url = self._capture(EXPIRY_REMINDER, "captured-expiry-reminders")
        self.captured: list[dict[str, Any]] = []
        self.captured_reminders: list[dict[str, Any]] = []

    def _capture(self, detail_type: str, queue: str) -> str:
        events = boto3.client("events")
        url = self.sqs.create_queue(QueueName=queue)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
        rule = f"capture-{queue}"
        events.put_rule(
            Name=rule,
            EventBusName=self.env["EVENT_BUS_NAME"],
            EventPattern=json.dumps(
                {"source": ["flexible-user-license.api-info"], "detail-type": [detail_type]}
            ),
        )
        events.put_targets(
            Rule=rule,
            EventBusName=self.env["EVENT_BUS_NAME"],
            Targets=[{"Id": "test", "Arn": arn["QueueArn"]}],
        )
        return url

    # --- the two functions ----------------------------------------------------------------------

    def dispatch(self, event: dict[str, Any] | None = None) -> Any:
        """Run the dispatcher on events/schedule.json (or the given event)."""
        module = function_module("DispatchChecksFunction")
        return module.lambda_handler(event or sample("schedule"), LambdaContext())

    def work(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Run the worker on an SQS event shaped like events/sqs_batch.json, holding these messages."""
        template = sample("sqs_batch")["Records"][0]
        records = []
        for message in messages:
            record = copy.deepcopy(template)
            record.update(
                messageId=message["MessageId"],
                receiptHandle=message["ReceiptHandle"],
                body=message["Body"],
                md5OfBody=message["MD5OfBody"],
            )
            record["attributes"].update(message.get("Attributes", {}))
            records.append(record)
        module = function_module("CheckWorkerFunction")
        response: dict[str, Any] = module.lambda_handler({"Records": records}, LambdaContext())
        self.responses.append(response)
        return response

    # --- the queue ------------------------------------------------------------------------------

    def enqueue(self, *tenants: str) -> None:
        for name in tenants:
            body = json.dumps({"tenantId": tenant_id(name), "requestedAt": "2026-11-28T03:00:00Z"})
            self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)

    def receive(self) -> list[dict[str, Any]]:
        """Every message of the check queue that is visible now."""
        messages: list[dict[str, Any]] = []
        while True:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]
            )
            if not answer.get("Messages"):
                return messages
            messages += answer["Messages"]

    def run(self, *tenants: str) -> dict[str, Any]:
        """Queue these tenants and run the worker on what the queue delivers."""
        self.enqueue(*tenants)
        return self.work(self.receive())

    def release(self, message: dict[str, Any]) -> None:
        """Make a deferred message visible again at once (standing in for the wait)."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )

    # --- the events -----------------------------------------------------------------------------

    def events(self) -> list[dict[str, Any]]:
        """Every "Credential status changed" event the service put on its bus so far, oldest first."""
        return self._drain(self.capture_url, self.captured)

    def reminders(self) -> list[dict[str, Any]]:
        """Every "Credential expiry reminder" event the service put on its bus so far, oldest first."""
        return self._drain(self.reminders_url, self.captured_reminders)

    def _drain(self, url: str, captured: list[dict[str, Any]]) -> list[dict[str, Any]]:
        while True:
            answer = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            if not answer.get("Messages"):
                return captured
            for message in answer["Messages"]:
                captured.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
