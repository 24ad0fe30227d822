"""GET /api-info: the API Information page of the caller's Jira site."""

from api_info import info, wiring
from api_info.api import create_app, current_caller, handler, route
from api_info.models import InfoResponse

app = create_app()


@route(app, "GET", "/api-info")
def get_info() -> InfoResponse:
    return info.show_info(wiring.services(), current_caller(app))


lambda_handler = handler(app)
