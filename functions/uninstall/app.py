"""POST /lifecycle/uninstalled: Forge tells us the app was uninstalled; forget everything of that site."""

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from aws_lambda_powertools.event_handler import Response

from api_info import removal, wiring
from api_info.api import create_app, current_caller, handler
from api_info.observability import tracer

app = create_app()


@app.post(
    "/lifecycle/uninstalled", responses={204: {"description": "Everything held for the installation is gone"}}
)
@tracer.capture_method
def uninstalled() -> Response[None]:
    removal.uninstall(wiring.services(), current_caller(app))
    return Response(status_code=204)


lambda_handler = handler(app)
