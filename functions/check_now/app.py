"""POST /api-info/check: re-validate the caller's stored credentials now (at most once per 30 s)."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import checks, wiring
from api_info.api import create_app, current_caller, route, serve
from api_info.models import InfoResponse
from api_info.observability import logger, metrics, tracer

app = create_app()


@route(app, "POST", "/api-info/check")
@tracer.capture_method
def check_now() -> InfoResponse:
    return checks.check_now(wiring.check_services(), current_caller(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
