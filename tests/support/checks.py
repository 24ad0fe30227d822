"""Runs the dispatcher and the worker on the sample events, over moto's real queue, and captures events."""

from __future__ import annotations

import copy
import json
from functools import cache
from types import ModuleType
from typing import Any

import boto3

from local import lambdas
from local.api_client import sample_event
from local.dev_issuer import installation
from local.lambdas import LambdaContext

STATUS_CHANGED = "Credential status changed"


@cache
def function_module(logical_id: str) -> ModuleType:
    """The handler module of one function of template.yaml, loaded once per test session."""
    return lambdas.function_module(logical_id)


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
        # A rule on the service's bus sends every status event to a queue this test reads.
        events = boto3.client("events")
        capture = self.sqs.create_queue(QueueName="captured-credential-events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=capture, AttributeNames=["QueueArn"])["Attributes"]
        events.put_rule(
            Name="capture-status-changes",
            EventBusName=env["EVENT_BUS_NAME"],
            EventPattern=json.dumps({"source": ["flexible-user-license.api-info"]}),
        )
        events.put_targets(
            Rule="capture-status-changes",
            EventBusName=env["EVENT_BUS_NAME"],
            Targets=[{"Id": "test", "Arn": arn["QueueArn"]}],
        )
        self.capture_url = capture
        self.captured: list[dict[str, Any]] = []

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
        """Every event the service put on its bus so far, oldest first."""
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.capture_url, MaxNumberOfMessages=10)
            if not answer.get("Messages"):
                return self.captured
            for message in answer["Messages"]:
                self.captured.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.capture_url, ReceiptHandle=message["ReceiptHandle"])
