"""DELETE /api-info/key and /api-info/token: remove a stored credential."""

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from api_info import removal, wiring
from api_info.api import create_app, current_caller, handler, route
from api_info.credentials.api_key import API_KEY
from api_info.credentials.api_token import API_TOKEN
from api_info.models import ChangeKeyResponse, ChangeTokenResponse

app = create_app()


@route(app, "DELETE", "/api-info/key")
def delete_key() -> ChangeKeyResponse:
    return ChangeKeyResponse.model_validate(
        removal.delete_credential(wiring.services(), current_caller(app), API_KEY)
    )


@route(app, "DELETE", "/api-info/token")
def delete_token() -> ChangeTokenResponse:
    answer = removal.delete_credential(wiring.services(), current_caller(app), API_TOKEN)
    return ChangeTokenResponse.model_validate(answer)


lambda_handler = handler(app)
