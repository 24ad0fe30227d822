"""DELETE /api-info/key and /api-info/token: remove a stored credential."""

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import removal, wiring
from api_info.api import create_app, current_caller, route, serve
from api_info.models import ChangeKeyResponse, ChangeTokenResponse
from api_info.observability import logger, metrics, tracer

app = create_app()


@route(app, "DELETE", "/api-info/key")
@tracer.capture_method
def delete_key() -> ChangeKeyResponse:
    return ChangeKeyResponse.model_validate(
        removal.delete_credential(wiring.services(), current_caller(app), "apiKey")
    )


@route(app, "DELETE", "/api-info/token")
@tracer.capture_method
def delete_token() -> ChangeTokenResponse:
    answer = removal.delete_credential(wiring.services(), current_caller(app), "apiToken")
    return ChangeTokenResponse.model_validate(answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
