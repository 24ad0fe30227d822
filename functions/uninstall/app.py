"""POST /lifecycle/uninstalled: Forge tells us the app was uninstalled; forget everything of that site."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import removal, wiring
from api_info.api import create_app, current_caller, serve
from api_info.observability import logger, metrics, tracer

app = create_app()


@app.post(
    "/lifecycle/uninstalled", responses={204: {"description": "Everything held for the installation is gone"}}
)
@tracer.capture_method
def uninstalled() -> Response[None]:
    removal.uninstall(wiring.services(), current_caller(app))
    return Response(status_code=204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve(app, event, context)
