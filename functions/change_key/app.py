"""PUT /api-info/key: validate a new organization Admin API key with Atlassian, then store it."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Header

from api_info import change, wiring
from api_info.api import IDEMPOTENCY_KEY, create_app, current_caller, handler, route
from api_info.models import ChangeKeyRequest, ChangeKeyResponse

app = create_app()


@route(app, "PUT", "/api-info/key")
def change_key(
    body: Annotated[ChangeKeyRequest, Body()],
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY)] = None,
) -> ChangeKeyResponse:
    return change.change_key(
        wiring.services(), current_caller(app), body, idempotency_key, app.lambda_context
    )


lambda_handler = handler(app)
