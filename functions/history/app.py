"""GET /api-info/history: the audit trail of the caller's site, newest first."""

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from api_info import info, wiring
from api_info.api import create_app, current_caller, handler, route
from api_info.models import HistoryResponse

app = create_app()


@route(app, "GET", "/api-info/history")
def history(
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HistoryResponse:
    return HistoryResponse.model_validate(info.history(wiring.services(), current_caller(app), limit, cursor))


lambda_handler = handler(app)
