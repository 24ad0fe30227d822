"""The HTTP edge shared by every function: the resolver, the gate every request passes, error answers."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api_info import snapstart, startup
from api_info.atlassian import deadline
from api_info.auth import Caller, bearer_token, forge_caller
from api_info.bodies import (
    MAX_JSON_DEPTH,
    MAX_JSON_NUMBER_DIGITS,
    is_json,
    is_json_media_type,
    is_json_object,
    json_media_type_in_lower_case,
    within_parse_limits,
)
from api_info.errors import ApiError, BadRequest, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from api_info.observability import logger, metrics, tracer
from api_info.records import Actor
from api_info.services import Services
from api_info.wiring import services

snapstart.register()

MAX_BODY_BYTES = 8 * 1024
JSON_UTF8 = "application/json; charset=utf-8"  # the contract's media type of every body
NOT_JSON = "The request body must be a JSON object, sent with Content-Type: application/json."
IDEMPOTENCY_KEY = r"^[A-Za-z0-9_-]{1,128}$"
BODY_ERRORS = {"json_invalid", "model_attributes_type", "dict_type", "model_type", "missing"}
TOO_DEEP = (
    f"The request body nests deeper than {MAX_JSON_DEPTH} levels or holds a number of more than "
    f"{MAX_JSON_NUMBER_DIGITS} digits."
)
# The operators' twin of every /api-info route; API Gateway checks SigV4 (AWS_IAM) before it.
OPS_PREFIX = "/ops/tenants/{tenantId}"  # as API Gateway names the resource
OPS_ROUTE_PREFIX = "/ops/tenants/<tenantId>"  # as the Powertools resolver matches it
MAX_TENANT_ID_BYTES = 1024  # an installation id is about 70; DynamoDB refuses keys over 2,048 bytes
UNINSTALL = "/lifecycle/uninstalled"
OUTBOUND_BUDGET_SECONDS = 12.0  # contract 2a; the setting of the same name says it in every function
# Marketplace security requirement 3: HSTS with at least a year's max-age on every answer.
HSTS = "max-age=31536000; includeSubDomains"
IAM_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:\S+$")


def create_app(*, validation: bool = True) -> APIGatewayRestResolver:
    """A REST resolver whose every error, expected or not, answers in the contract's shape.

    `validation=False` is for a function whose routes take no body and no parameter (get-info): it never
    imports Powertools' validation middleware nor builds its pydantic adapters, and its routes answer
    with `json_answer`. Every route with a body or a parameter keeps Powertools' validation.
    """
    # debug=False whatever POWERTOOLS_DEV says: in debug mode the resolver prints every event, and
    # a change's event carries the new key or token in its body.
    app = APIGatewayRestResolver(enable_validation=validation, debug=False)

    @app.exception_handler(ApiError)
    def _api_error(exc: ApiError) -> Response[Any]:
        return error_response(exc, _request_id(app.current_event.raw_event))

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[Any]:
        return error_response(validation_error(list(exc.errors())), _request_id(app.current_event.raw_event))

    @app.exception_handler(RequestUnsupportedContentType)
    def _not_json(exc: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(BadRequest(NOT_JSON), _request_id(app.current_event.raw_event))

    @app.not_found
    def _not_found(exc: Exception) -> Response[Any]:
        return error_response(NotFound(), _request_id(app.current_event.raw_event))

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        logger.exception("Unexpected error")
        return error_response(ApiError(), _request_id(app.current_event.raw_event))

    return app


def route(app: APIGatewayRestResolver, method: str, path: str, **kwargs: Any) -> Callable[[Any], Any]:
    """Register a route function, traced, on its /api-info path and on the operators' /ops twin of it."""

    def register(func: Any) -> Any:
        traced = tracer.capture_method(func)
        app.route(path, method, **kwargs)(traced)
        app.route(OPS_ROUTE_PREFIX + path, method, **kwargs)(_without_tenant_id(traced))
        return traced

    return register


def _without_tenant_id(func: Callable[..., Any]) -> Callable[..., Any]:
    """The function of an /ops twin. The gate has already taken the tenant from the path; a resolver
    without validation would pass it to the function as `tenantId` too (one with validation passes only
    the parameters the function declares). The signature stays the function's, for the OpenAPI document."""

    @functools.wraps(func)
    def twin(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("tenantId", None)
        return func(*args, **kwargs)

    return twin


def json_answer(body: dict[str, Any]) -> Response[Any]:
    """A 200 answer of JSON already in its model's shape (camelCase), for a route of a resolver without
    validation; the route's `-> Response[Model]` documents the model."""
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


def handler(app: APIGatewayRestResolver) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """A function's Lambda handler: Powertools' logger context, tracing and metrics around `serve`; the
    end of the function's init (`startup.ready()`)."""
    startup.ready()

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, log_event=False)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handle(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return serve(app, event, context)

    return handle


def serve(app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Check the body size and the caller before any route runs, then resolve the route; every outbound
    call of the request (the JWKS, Jira, Atlassian) within one budget (contract 2a)."""
    with deadline(_outbound_budget_seconds()):
        return _serve(app, event, context)


def _outbound_budget_seconds() -> float:
    try:
        return services().settings.outbound_budget_seconds
    except Exception:  # settings that cannot be read: `identify` answers 500 for them, as before
        return OUTBOUND_BUDGET_SECONDS


def _serve(app: APIGatewayRestResolver, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        body = event.get("body") or ""
        if len(body.encode()) > MAX_BODY_BYTES:
            raise PayloadTooLarge()
        caller = identify(services(), event)
        if body and not is_json(event):
            # Powertools would parse a form body into the model too; the contract's bodies are JSON only.
            raise BadRequest(NOT_JSON)
        if body and not within_parse_limits(body):
            raise BadRequest(TOO_DEEP)
        if body and not is_json_object(body):
            # Powertools parses only a body a route declares: on the others (an uninstall, a check)
            # the route would run whatever came, `[[[` included.
            raise BadRequest(NOT_JSON)
        event = json_media_type_in_lower_case(_ops_path(event, caller))
    except ApiError as exc:
        return _with_hsts(proxy_error(exc, _request_id(event)))
    except Exception:
        logger.exception("Unexpected error while identifying the caller")
        return _with_hsts(proxy_error(ApiError(), _request_id(event)))
    app.context["caller"] = caller
    return _with_hsts(_json_in_utf8(app.resolve(event, context)))


def _with_hsts(answer: dict[str, Any]) -> dict[str, Any]:
    answer["headers"] = {**(answer.get("headers") or {}), "Strict-Transport-Security": HSTS}
    return answer


def _json_in_utf8(answer: dict[str, Any]) -> dict[str, Any]:
    # Powertools labels JSON plain `application/json`, in the routes' answers and in the exception
    # handlers' alike; one place relabels it all, so no route can forget. Other answers keep theirs.
    for name in ("headers", "multiValueHeaders"):
        headers = answer.get(name) or {}
        for key, value in list(headers.items()):
            values = value if isinstance(value, list) else [value]
            if key.lower() == "content-type" and any(is_json_media_type(str(v)) for v in values):
                headers[key] = [JSON_UTF8] if isinstance(value, list) else JSON_UTF8
    return answer


def current_caller(app: APIGatewayRestResolver) -> Caller:
    """The caller `serve` identified for this request."""
    caller: Caller = app.context["caller"]
    return caller


def identify(svc: Services, event: Mapping[str, Any]) -> Caller:
    """Who is calling: an operator (IAM) on /ops, a Jira administrator (Forge token), or Forge itself."""
    if str(event.get("resource", "")).startswith("/ops/"):
        return operator_caller(svc, event)
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    claims = svc.verifier.verify(bearer_token(headers))
    lifecycle = str(event.get("resource", "")).startswith("/lifecycle/")
    system_token = headers.get("x-forge-oauth-system")
    caller = forge_caller(claims, require_principal=not lifecycle, system_token=system_token)
    caller = _vetted_site(svc, caller, lifecycle)
    if lifecycle and not claims.principal:
        return caller  # Forge's own lifecycle trigger, which runs without a user
    # A user's token, on /api-info or (sent with invokeRemote) on /lifecycle: only an administrator may.
    # Jira refusing the app's system token lets an uninstall through (the app is gone), nothing else.
    svc.admin_check.require(
        tenant_id=caller.tenant.installation_id,
        account_id=claims.principal or "",
        api_base_url=caller.api_base_url,
        system_token=system_token,
        app_gone_suffices=event.get("resource") == UNINSTALL,
    )
    return caller


def _vetted_site(svc: Services, caller: Caller, lifecycle: bool) -> Caller:
    """The caller, its token's `context.siteUrl` held to the outbound URL rules (contract 2d).

    The /api-info routes store it or call it: a site URL the service would never call is 403 there.
    The lifecycle routes (uninstall, personal data) neither store nor call it: it is dropped, so that
    a bad one cannot stop an installation's data from being deleted or erased.
    """
    site_url = caller.tenant.site_url
    if site_url is None:
        return caller
    if lifecycle:
        return replace(caller, tenant=replace(caller.tenant, site_url=None))
    svc.atlassian.transport.vet_url(site_url)  # UnsafeUrl: 403
    return caller


def operator_caller(svc: Services, event: Mapping[str, Any]) -> Caller:
    """An operator on /ops: the IAM identity API Gateway verified, acting on the tenant of the path.

    Any Forge token on the request is ignored. The API Gateway console's Test feature sends the
    console user's ARN in `identity.userArn` too, so it works the same way.
    """
    identity = (event.get("requestContext") or {}).get("identity") or {}
    arn = identity.get("userArn")
    if not isinstance(arn, str) or not IAM_ARN.match(arn):
        raise Forbidden("This route needs a request signed with AWS credentials (SigV4).")
    # Taken exactly as API Gateway decoded it, once: decoding again would let `ari%253A...` reach
    # the tenant that an IAM policy on the path names `ari%3A...`. An installation id holds no '%'.
    tenant_id = str((event.get("pathParameters") or {}).get("tenantId") or "")
    # Past DynamoDB's 2,048-byte key limit a lookup is a ValidationException (a 500); such an id names none.
    plausible = tenant_id and "%" not in tenant_id and len(tenant_id.encode()) <= MAX_TENANT_ID_BYTES
    tenant = svc.tenants.tenant(tenant_id) if plausible else None
    if tenant is None:
        raise NotFound("No installation with this id is known to this service.")
    return Caller(tenant=tenant, actor=Actor(type="aws", arn=arn))


def _ops_path(event: dict[str, Any], caller: Caller) -> dict[str, Any]:
    # The resolver matches on `path`. Rebuild it with the tenant id encoded, so that an id typed with
    # its '/' unencoded (as the console's Test allows) still finds the route.
    resource = str(event.get("resource", ""))
    if not resource.startswith(OPS_PREFIX):
        return event
    encoded = quote(caller.tenant.installation_id, safe="")
    return {**event, "path": resource.replace("{tenantId}", encoded, 1)}


# --- error answers ------------------------------------------------------------------------------


def validation_error(errors: list[dict[str, Any]]) -> ApiError:
    """Turn pydantic's errors into `bad_request` (body not an object) or `validation_error` with details."""
    details = []
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if error.get("type") == "json_invalid" or (loc == ["body"] and error.get("type") in BODY_ERRORS):
            return BadRequest()
        field = ".".join(loc[1:]) or loc[0] if loc else "body"
        details.append({"field": field, "message": _field_message(field, error)})
    return ValidationFailed("Some fields are missing or not valid: see details.", details=details)


def _field_message(field: str, error: Mapping[str, Any]) -> str:
    # Built from the error type only: pydantic's own text may echo the input, which can be a secret.
    # The settings page recognises these sentences to say them in its own language (DETAIL_TEXT in
    # local/page/app.js): a new one shows there as "not valid" until the page learns it.
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "This field is required."
    if kind == "extra_forbidden":
        return "This field is not expected here."
    # SecretStr fields report too_short / too_long rather than the string_ kinds.
    if kind in ("string_too_short", "too_short"):
        return "This field must not be empty."
    if kind in ("string_too_long", "too_long"):
        return f"This field must be at most {ctx.get('max_length')} characters long."
    if kind == "string_pattern_mismatch":
        if field.lower() == "idempotency-key":
            return "Use 1 to 128 letters, digits, '-' or '_'."
        if field == "email":
            return "Enter an email address, like admin@example.com."
        return "This field must not contain spaces or line breaks."
    if kind == "string_type":
        return "This field must be text."
    if kind in ("int_parsing", "int_type"):
        return "This field must be a whole number."
    if kind in ("greater_than_equal", "less_than_equal"):
        return f"This field must be between {ctx.get('ge', 1)} and {ctx.get('le', 100)}."
    if kind == "value_error":
        return f"This field {ctx.get('error', 'is not valid')}."
    return "This field is not valid."


def error_body(exc: ApiError, request_id: str | None) -> dict[str, Any]:
    """The contract's error body for an exception."""
    error: dict[str, Any] = {"code": exc.code, "message": exc.message, "requestId": request_id}
    if exc.details is not None:
        error["details"] = exc.details
    return {"error": error}


def error_response(exc: ApiError, request_id: str | None) -> Response[Any]:
    """An error as a Powertools Response."""
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None
    return Response(
        status_code=exc.status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(error_body(exc, request_id)),
        headers=headers,
    )


def proxy_error(exc: ApiError, request_id: str | None) -> dict[str, Any]:
    """An error as an API Gateway proxy answer, for the gate that runs before the resolver."""
    headers = {"Content-Type": JSON_UTF8}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return {
        "statusCode": exc.status,
        "headers": headers,
        "body": json.dumps(error_body(exc, request_id)),
        "isBase64Encoded": False,
    }


def _request_id(event: Mapping[str, Any]) -> str | None:
    context = event.get("requestContext") or {}
    request_id = context.get("requestId")
    return str(request_id) if request_id else None
