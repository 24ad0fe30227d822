"""The check queue (SQS) and the credential events (EventBridge): the only code that touches either.
The bodies of their messages and events are in messages.py.

Messages and events carry tenant ids, statuses and masked values, never a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import SendMessageBatchRequestEntryTypeDef

SQS_BATCH = 10  # SendMessageBatch's limit
SEND_THREADS = 8  # parallel SendMessageBatch calls while fanning out
EVENT_SOURCE = "flexible-user-license.api-info"


class CheckQueue:
    """The queue of tenants whose credentials are to be checked."""

    def __init__(self, queue_url: str | None, sqs: Callable[[], SQSClient]) -> None:
        self._url = queue_url
        self._sqs = sqs  # a client factory: the client is made on first use

    @property
    def sqs(self) -> SQSClient:
        return self._sqs()

    @property
    def url(self) -> str:
        if not self._url:
            raise RuntimeError("CHECK_QUEUE_URL is not set")
        return self._url

    def send_all(self, bodies: Sequence[str]) -> int:
        """Send one message per body, ten to a SendMessageBatch call, several calls at once."""
        batches = [bodies[i : i + SQS_BATCH] for i in range(0, len(bodies), SQS_BATCH)]
        if len(batches) <= 1:
            return sum(map(self._send_batch, batches))
        with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(batches))) as pool:
            return sum(pool.map(self._send_batch, batches))

    def defer(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again only after `seconds` (how a retry is delayed)."""
        self.sqs.change_message_visibility(
            QueueUrl=self.url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def _send_batch(self, bodies: Sequence[str]) -> int:
        entries: list[SendMessageBatchRequestEntryTypeDef] = [
            {"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)
        ]
        for _ in range(3):
            answer = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            failed = {f["Id"] for f in answer.get("Failed", []) if not f.get("SenderFault")}
            if len(failed) < len(answer.get("Failed", [])):
                raise RuntimeError("SQS refused a check message")
            if not failed:
                return len(bodies)
            entries = [e for e in entries if e["Id"] in failed]  # SQS-side failures: send those again
        raise RuntimeError("SQS kept failing to accept check messages")


class EventPublisher:
    """Puts the service's events on an EventBridge bus."""

    def __init__(self, bus_name: str, source: str, events: Callable[[], Any]) -> None:
        self._bus = bus_name
        self._source = source
        self._events = events  # a client factory: the client is made on first use

    @property
    def events(self) -> Any:
        return self._events()

    def publish(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        """Put one event on the bus; raises if EventBridge did not take it."""
        answer = self.events.put_events(
            Entries=[
                {
                    "EventBusName": self._bus,
                    "Source": self._source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail),
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            code = answer["Entries"][0].get("ErrorCode", "unknown")
            raise RuntimeError(f"EventBridge did not take the event ({code})")
