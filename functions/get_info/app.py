"""GET /api-info: the API Information page of the caller's Jira site."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import info, wiring
from api_info.api import create_app, current_caller, route, serve
from api_info.models import InfoResponse
from api_info.observability import logger, metrics, tracer

app = create_app()


@route(app, "GET", "/api-info")
@tracer.capture_method
def get_info() -> InfoResponse:
    return info.show_info(wiring.services(), current_caller(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
