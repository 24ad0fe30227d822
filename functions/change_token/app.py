"""PUT /api-info/token: validate a new user API token and its email with Atlassian, then store it."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import change, wiring
from api_info.api import IDEMPOTENCY_KEY, create_app, current_caller, route, serve
from api_info.models import ChangeTokenRequest, ChangeTokenResponse
from api_info.observability import logger, metrics, tracer

app = create_app()


@route(app, "PUT", "/api-info/token")
@tracer.capture_method
def change_token(
    body: Annotated[ChangeTokenRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)] = None,
) -> ChangeTokenResponse:
    return change.change_token(
        wiring.services(), current_caller(app), body, idempotency_key, app.lambda_context
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
