"""GET /api-info: the API Information page of the caller's Jira site."""

from __future__ import annotations

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import Response

from api_info import info, wiring
from api_info.api import create_app, current_caller, handler, json_answer, route

if TYPE_CHECKING:  # for the OpenAPI document only (scripts/openapi.py): this function loads no pydantic
    from api_info.models import InfoResponse

app = create_app(validation=False)  # no body, no parameter: nothing for Powertools to validate


@route(app, "GET", "/api-info")
def get_info() -> Response[InfoResponse]:
    return json_answer(info.show_info(wiring.services(), current_caller(app)))


lambda_handler = handler(app)
