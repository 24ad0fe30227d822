"""Started by the EventBridge Scheduler schedule: send every tenant to the check queue."""

import api_info.startup  # first: no cycle collection while the function loads

# isort: split
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import checks, wiring
from api_info.observability import logger, metrics, tracer


# The schedule's Input carries Scheduler's execution id (see template.yaml): one id per dispatch run.
@logger.inject_lambda_context(correlation_id_path="executionId")
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    svc = wiring.check_services()
    if not event:  # the pre-traffic hook's probe of a new version (api_info.pre_traffic): init only
        return {"tenants": 0}
    sent = checks.dispatch_checks(svc, requested_at=event.get("scheduledTime"))
    return {"tenants": sent}


# The end of init: what it built frozen, the collector back on (api_info.startup).
api_info.startup.ready()
