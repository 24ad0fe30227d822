"""POST /api-info/check: re-validate the caller's stored credentials now (at most once per 30 s)."""

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from api_info import checks, wiring
from api_info.api import create_app, current_caller, handler, route
from api_info.models import InfoResponse

app = create_app()


@route(app, "POST", "/api-info/check")
def check_now() -> InfoResponse:
    return InfoResponse.model_validate(
        checks.check_now(wiring.check_services(), current_caller(app), app.lambda_context)
    )


lambda_handler = handler(app)
