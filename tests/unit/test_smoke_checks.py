"""scripts/smoke.py's judgement of the API's answers, with no AWS: what counts as refused by API Gateway,
and what breaks the contract's error shape."""

from __future__ import annotations

import json

import httpx
import pytest

from scripts.smoke import Smoke, SmokeFailure, check_unsigned_refused, error_of

FUNCTION_NOT_FOUND = "No installation with this id is known to this service."
GATEWAY_NOT_FOUND = (
    "This address does not exist. Reload the page, and update the app if the problem persists."
)


def answering(status: int, body: object) -> Smoke:
    """A smoke check whose HTTP client gets this answer to every call."""
    transport = httpx.MockTransport(lambda request: httpx.Response(status, json=body))
    http = httpx.Client(transport=transport)
    smoke = Smoke(session=None, outputs={"ApiUrl": "https://api.test/v1"}, http=http)  # type: ignore[arg-type]
    smoke.function_not_found = FUNCTION_NOT_FOUND
    return smoke


def error(code: str, message: str) -> dict[str, object]:
    return {"error": {"code": code, "message": message, "requestId": "r-1"}}


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (404, "not_found", GATEWAY_NOT_FOUND),
        (403, "forbidden", "Not allowed."),
        (401, "unauthenticated", "No."),
    ],
)
def test_a_refusal_by_api_gateway_passes(status: int, code: str, message: str) -> None:
    assert check_unsigned_refused(answering(status, error(code, message))).endswith(f"({status} {code})")


def test_an_unsigned_call_the_function_answered_fails_though_it_is_a_404() -> None:
    # The route lost AWS_IAM: the function itself answers the unknown installation
    with pytest.raises(SmokeFailure, match="reached the function"):
        check_unsigned_refused(answering(404, error("not_found", FUNCTION_NOT_FOUND)))


def test_an_unsigned_call_that_succeeds_fails() -> None:
    with pytest.raises(SmokeFailure):
        check_unsigned_refused(answering(200, {"tenant": {}}))


@pytest.mark.parametrize(
    "body",
    [
        {"message": "Missing Authentication Token"},  # API Gateway's own body: no GatewayResponses
        {"error": {"code": "not_found", "message": "m"}},  # no requestId
        {"error": {"code": "not_found", "message": "m", "requestId": "r", "extra": 1}},
        {"error": {"code": "", "message": "m", "requestId": "r"}},
    ],
)
def test_an_answer_outside_the_contracts_error_shape_fails(body: object) -> None:
    with pytest.raises(SmokeFailure, match=r"error shape|empty"):
        error_of(httpx.Response(404, content=json.dumps(body).encode()))
