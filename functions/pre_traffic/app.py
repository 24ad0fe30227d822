"""CodeDeploy's PreTraffic hook: no traffic reaches a new version of any function until each has answered
one probe as it must (api_info.pre_traffic); then it reports Succeeded or Failed to CodeDeploy."""

import api_info.startup  # first: no cycle collection while the function loads

# isort: split
import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from api_info import pre_traffic
from api_info.observability import logger, tracer


@cache
def clients() -> tuple[Any, Any]:
    """The Lambda client (at most two attempts: a probe must not run three times) and CodeDeploy's."""
    config = Config(read_timeout=60, retries={"mode": "standard", "total_max_attempts": 2})
    return boto3.client("lambda", config=config), boto3.client("codedeploy")


@logger.inject_lambda_context(correlation_id_path="DeploymentId")
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    lambda_client, codedeploy = clients()
    versions = {probe.function: os.environ.get(probe.function, "") for probe in pre_traffic.PROBES}
    status = pre_traffic.gate(
        event, lambda_client.invoke, codedeploy.put_lifecycle_event_hook_execution_status, versions
    )
    return {"status": status}


# The end of init: what it built frozen, the collector back on (api_info.startup).
api_info.startup.ready()
