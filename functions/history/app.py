"""GET /api-info/history: the audit trail of the caller's site, newest first."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import info, wiring
from api_info.api import create_app, current_caller, route, serve
from api_info.models import HistoryResponse
from api_info.observability import logger, metrics, tracer

app = create_app()


@route(app, "GET", "/api-info/history")
@tracer.capture_method
def history(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HistoryResponse:
    return info.history(wiring.services(), current_caller(app), limit, cursor)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
