"""PUT /api-info/token: validate a new user API token and its email with Atlassian, then store it."""

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from api_info import change, wiring
from api_info.api import IDEMPOTENCY_KEY, create_app, current_caller, handler, route
from api_info.credentials.api_token import API_TOKEN
from api_info.models import ChangeTokenRequest, ChangeTokenResponse

app = create_app()


@route(app, "PUT", "/api-info/token")
def change_token(
    body: Annotated[ChangeTokenRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)] = None,
) -> ChangeTokenResponse:
    answer = change.change_credential(
        wiring.services(), current_caller(app), API_TOKEN, body, idempotency_key, app.lambda_context
    )
    return ChangeTokenResponse.model_validate(answer)


lambda_handler = handler(app)
