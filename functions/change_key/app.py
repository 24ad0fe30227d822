"""PUT /api-info/key: validate a new organization Admin API key with Atlassian, then store it."""

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from api_info import change, wiring
from api_info.api import IDEMPOTENCY_KEY, create_app, current_caller, handler, route
from api_info.credentials.api_key import API_KEY
from api_info.models import ChangeKeyRequest, ChangeKeyResponse

app = create_app()


@route(app, "PUT", "/api-info/key")
def change_key(
    body: Annotated[ChangeKeyRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)] = None,
) -> ChangeKeyResponse:
    answer = change.change_credential(
        wiring.services(), current_caller(app), API_KEY, body, idempotency_key, app.lambda_context
    )
    return ChangeKeyResponse.model_validate(answer)


lambda_handler = handler(app)
