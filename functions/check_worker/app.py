"""Consumes the check queue: checks each batch's tenants in parallel and reports the ones to retry."""

import api_info.startup  # first: no cycle collection while the function loads

# isort: split
import asyncio
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import wiring
from api_info.check_worker import WorkerBatch
from api_info.observability import logger, metrics, tracer

# A batch whose every record failed is answered like any other (all reported), not raised as an error.
processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    svc = wiring.check_services()
    if not event:  # the pre-traffic hook's probe of a new version (api_info.pre_traffic): init only
        return {"batchItemFailures": []}
    batch = WorkerBatch(svc, [record.get("body", "") for record in event.get("Records", [])])

    # Each record's check runs on the container's thread pool: at most CHECK_CONCURRENCY checks, so
    # Atlassian requests, are in flight at once. A record that raises is reported for retry.
    async def record_handler(record: SQSRecord) -> None:
        attempt = int(record.attributes.approximate_receive_count or 1)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(svc.pool, batch.check, record.body, record.receipt_handle, attempt)

    response = async_process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    batch.finish()  # the history of the whole batch; if it cannot be written, the batch is retried
    return dict(response)


# The end of init: what it built frozen, the collector back on (api_info.startup).
api_info.startup.ready()
