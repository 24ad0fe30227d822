"""One OpenAPI document for the whole API, generated from the Powertools resolvers of every function.

`python -m scripts.openapi` (or `make openapi`) writes docs/openapi.json; `--check` exits 1 when the committed
file differs from what the code and template.yaml give now. The functions come from template.yaml, so a route
added there (and in its function's resolver) is documented without touching this file.

Powertools documents what the resolvers know (paths, parameters, bodies, 200 answers) and merges the
functions' documents; this module adds what only the template and the contract know: who may call a route
(Forge Invocation Token and system token, or SigV4), and the error answers every route can give, all with
the contract's error body.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import typing
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for _path in (REPO / "layers" / "shared", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge  # noqa: E402
from aws_lambda_powertools.event_handler.openapi.models import Server  # noqa: E402

from local.cfn import FunctionSpec, functions, load_template  # noqa: E402
from local.lambdas import load_function  # noqa: E402

OUTPUT = REPO / "docs" / "openapi.json"
TITLE = "Flexible User License - API Information service"
VERSION = "1.0.0"
DESCRIPTION = """\
The backend of the API Information page of Flexible User License: the organization Admin API key and the
user API token the app uses, their status, and their history.

Jira administrators call `/api-info` through Forge (`invokeRemote` from Custom UI), which sends a Forge
Invocation Token (`Authorization: Bearer ...`) and the app system token (`x-forge-oauth-system`).
Operators call `/ops/...` with AWS SigV4. Every answer other than 2xx has the body `ErrorResponse`.

On the local stack (`make run`), `POST /dev/token` gives both tokens: authorize with its `token` as the
bearer token and its `systemToken` as `x-forge-oauth-system`."""

ERROR_SCHEMA = "ErrorResponse"
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "forgeInvocationToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A Forge Invocation Token (RS256, about 25 s to live, one call). "
        "Locally: POST /dev/token.",
    },
    "forgeSystemToken": {
        "type": "apiKey",
        "in": "header",
        "name": "x-forge-oauth-system",
        "description": "The app system token Forge adds when the endpoint has appSystemToken enabled; the "
        "service asks Jira with it whether the caller is an administrator.",
    },
    "awsSigV4": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "AWS Signature Version 4 (API Gateway AWS_IAM). Locally the header "
        "X-Local-Iam-User-Arn stands in for it.",
        "x-amazon-apigateway-authtype": "awsSigv4",
    },
}

# The contract's error table: status -> (codes, when). Which statuses a route documents is chosen in
# `error_statuses`; the codes shown for 422 depend on the route too (see REJECTIONS).
ERRORS: dict[int, tuple[str, str]] = {
    400: (
        "bad_request",
        "the body is not a JSON object, nests deeper than 32 levels or holds a number of over 100 digits; "
        "or the Jira site is not known yet",
    ),
    401: ("unauthenticated", "the token is missing, malformed, badly signed, expired, or for another app"),
    403: ("forbidden", "the caller is not a Jira administrator, or the route's tenant is not the token's"),
    404: ("not_found", "unknown tenant (or, from API Gateway, an unknown route)"),
    409: (
        "idempotency_key_reused, change_in_progress",
        "the Idempotency-Key was used with another body, or another change of this credential is under way",
    ),
    413: ("payload_too_large", "the body is over 8 KiB"),
    422: (
        "validation_error",
        "a field is missing, of the wrong type, out of range, or unknown (see details)",
    ),
    429: ("rate_limited", "over a per-tenant limit or API Gateway's throttling; see Retry-After"),
    500: ("internal_error", "anything else; the message holds no internals"),
    502: (
        "atlassian_error, internal_error",
        "Atlassian answered 5xx or something unreadable, or the function failed",
    ),
    503: (
        "atlassian_unavailable",
        "Atlassian timed out, could not be reached, or answered 429 (see Retry-After); or the signing "
        "keys of Forge tokens could not be fetched to check a token of a key not yet known",
    ),
    504: ("internal_error", "API Gateway's integration timeout"),
}
# Routes that ask Atlassian about a credential: (method, last path segment) -> the codes of its refusals.
REJECTIONS: dict[tuple[str, str], str] = {
    ("put", "key"): "api_key_invalid, api_key_has_scopes, api_key_no_organization",
    ("put", "token"): "api_token_invalid, api_token_has_scopes, api_token_email_mismatch, "
    "api_token_account_inactive",
    ("post", "check"): "the codes of both PUT routes",
}
# The /ops twins serve the same function as their /api-info route, which takes no tenantId argument
# (the gate reads it): the parameter is documented here.
TENANT_ID = {
    "name": "tenantId",
    "in": "path",
    "required": True,
    "description": "The installation id (`ari:cloud:ecosystem::installation/<uuid>`), URL-encoded.",
    "schema": {"type": "string", "minLength": 1},
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0},
    }
}


def load_app(spec: FunctionSpec) -> Any:
    """The Powertools resolver (`app`) of one function of the template, its routes' annotations resolved.

    A function that loads no pydantic (get-info) names its answer's model only for type checkers, as a
    string (`-> Response[InfoResponse]`); the document finds such a name in api_info.models.
    """
    from api_info import models

    app = load_function(spec).app
    for route in [*app._static_routes, *app._dynamic_routes]:
        func = inspect.unwrap(route.func)
        if any(isinstance(annotation, str) for annotation in func.__annotations__.values()):
            names = {**vars(models), **func.__globals__}
            func.__annotations__ = typing.get_type_hints(func, names, include_extras=True)
    return app


def build_spec(template_path: Path = REPO / "template.yaml") -> dict[str, Any]:
    """The merged OpenAPI document of every function of the template."""
    # Importing a function wires Powertools; no AWS, no X-Ray and no settings are needed for that.
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = load_template(template_path)
    specs = [spec for spec in functions(template) if spec.routes]
    descriptions = {
        spec.logical_id: str(
            (template["Resources"][spec.logical_id].get("Properties") or {}).get("Description", "")
        )
        for spec in specs
    }
    merge = OpenAPIMerge(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        servers=[
            Server(url="/", description="The local stack serving this document (make run)"),
            Server(
                url="https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
                description="The deployed API (the stack's ApiUrl output)",
                variables={
                    "apiId": {"default": "abcdef1234"},
                    "region": {"default": "us-east-1"},
                    "stage": {"default": "v1"},
                },
            ),
        ],
        on_conflict="error",
    )
    for spec in specs:
        merge.add_schema(load_app(spec).get_openapi_schema(title=TITLE, version=VERSION))
    # Through JSON: Powertools' merged dict still holds enum members (e.g. a parameter's "in").
    document = json.loads(merge.get_openapi_json_schema())
    _add_errors_and_security(document, specs, descriptions)
    return document


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The statuses a route can answer besides 2xx, from the contract's error table and API Gateway's own."""
    # Every route: the gate (token, administrator, body size, a body that is not a JSON object), API
    # Gateway (throttling, function failure, integration timeout) and the catch-all.
    statuses = {400, 401, 403, 413, 429, 500, 502, 504}
    parameters = operation.get("parameters") or []
    if "requestBody" in operation:
        statuses.add(422)
    if parameters:
        statuses.add(422)
    if any(p.get("in") == "path" for p in parameters):
        statuses.add(404)
    last = path.rsplit("/", 1)[-1]
    if method != "get" and not path.startswith("/lifecycle/") and last != "personal-data":
        statuses.add(409)
    if (method, last) in REJECTIONS:
        statuses |= {422, 503}
    if last == "personal-data":  # the report to Atlassian's Personal data reporting API
        statuses.add(503)
    if not path.startswith("/ops/"):  # a Forge token of a key not yet known, the JWKS out of reach (2d)
        statuses.add(503)
    return sorted(statuses)


def _add_errors_and_security(
    document: dict[str, Any], specs: list[FunctionSpec], descriptions: dict[str, str]
) -> None:
    routes = {(r.method.lower(), r.path): (r, spec) for spec in specs for r in spec.routes}
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_error_schemas())
    components["securitySchemes"] = SECURITY_SCHEMES
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA}"}
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            route, spec = routes[(method, path)]
            parameters = operation.setdefault("parameters", [])
            if "{tenantId}" in path and not any(p.get("name") == "tenantId" for p in parameters):
                parameters.insert(0, TENANT_ID)
            if not parameters:
                del operation["parameters"]
            if route.iam:
                operation["security"] = [{"awsSigV4": []}]
            elif path.startswith("/lifecycle/"):
                operation["security"] = [{"forgeInvocationToken": []}]
            else:
                operation["security"] = [{"forgeInvocationToken": [], "forgeSystemToken": []}]
            operation["tags"] = operation.get("tags") or [path.strip("/").split("/")[0]]
            default_summary = f"{method.upper()} {path}"
            # "PUT /api-info/key - validate a new ..." in the template names what the route does.
            described = descriptions.get(spec.logical_id, "")
            if operation.get("summary") in (None, default_summary) and " - " in described:
                operation["summary"] = described.split(" - ", 1)[1]
            # Powertools documents its own validation error shape as 422; api.py answers ErrorResponse.
            responses = {str(s): a for s, a in operation["responses"].items() if str(s) != "422"}
            if "204" in responses:
                responses["204"].pop("content", None)  # Powertools gives it a JSON null; 204 has no body
            for status in error_statuses(method, path, operation):
                codes, when = ERRORS[status]
                if status == 422 and (method, path.rsplit("/", 1)[-1]) in REJECTIONS:
                    codes += ", " + REJECTIONS[(method, path.rsplit("/", 1)[-1])]
                    when += "; or Atlassian refused the credential"
                answer: dict[str, Any] = {
                    "description": f"`{codes}`: {when}.",
                    "content": {"application/json": {"schema": ref}},
                }
                if status in (429, 503):
                    answer["headers"] = RETRY_AFTER
                responses[str(status)] = answer
            operation["responses"] = dict(sorted(responses.items()))
    components["schemas"] = dict(sorted(_referenced(document, schemas).items()))
    document["paths"] = dict(sorted(document.get("paths", {}).items()))


def _referenced(document: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """The schemas the paths use, directly or through other schemas (drops Powertools' unused ones)."""
    wanted: set[str] = set()
    pending = [document.get("paths", {})]
    while pending:
        text = json.dumps(pending.pop())
        for name in schemas:
            if name not in wanted and f'"#/components/schemas/{name}"' in text:
                wanted.add(name)
                pending.append(schemas[name])
    return {name: schema for name, schema in schemas.items() if name in wanted}


def _error_schemas() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from api_info.models import ErrorResponse

    _, top = models_json_schema(
        [(ErrorResponse, "serialization")], ref_template="#/components/schemas/{model}"
    )
    return dict(top["$defs"])


def render(document: dict[str, Any]) -> str:
    """The document as committed: two-space JSON, non-ASCII kept, a final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.openapi", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/openapi.json is stale")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    text = render(build_spec())
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            sys.stderr.write(f"{args.output} is stale: run `make openapi` and commit it.\n")
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
