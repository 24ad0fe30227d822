"""API Gateway's side of the local stack: routes from template.yaml, the proxy event, the proxy response,
and its own answers (unknown route, refused signature, ...) shaped by the template's GatewayResponses.

Plain functions of data: no sockets, no processes; local.gateway serves them over HTTP.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.cfn import ApiRoute, FunctionSpec

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
STAGE = "local"
IAM_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):\S+$")


@dataclass(frozen=True)
class Route:
    method: str
    resource: str
    iam: bool
    function: FunctionSpec
    pattern: re.Pattern[str]
    names: tuple[str, ...]

    @classmethod
    def of(cls, api: ApiRoute, function: FunctionSpec) -> Route:
        names: list[str] = []
        parts = []
        for piece in re.split(r"(\{[^}]+\})", api.path):
            if piece.startswith("{"):
                name = piece[1:-1]
                greedy = name.endswith("+")
                names.append(name.rstrip("+"))
                parts.append(f"(?P<p{len(names)}>{'.+' if greedy else '[^/]+'})")
            else:
                parts.append(re.escape(piece))
        return cls(api.method, api.path, api.iam, function, re.compile("".join(parts) + "$"), tuple(names))

    def match(self, raw_path: str) -> dict[str, str] | None:
        """Path parameters (URL-decoded, as API Gateway gives them) when raw_path fits, else None."""
        found = self.pattern.match(raw_path)
        if found is None:
            return None
        return {name: unquote(found.group(f"p{i}")) for i, name in enumerate(self.names, 1)}


def build_routes(specs: list[FunctionSpec]) -> list[Route]:
    """Routes in API Gateway's order of preference: fixed paths before ones with parameters."""
    routes = [Route.of(api, spec) for spec in specs for api in spec.routes]
    return sorted(routes, key=lambda r: (len(r.names), -len(r.resource)))


@dataclass(frozen=True)
class HttpRequest:
    """A request as the local server read it off the socket, before API Gateway's mapping."""

    method: str
    raw_path: str  # still percent-encoded
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str


def build_event(
    route: Route,
    request: HttpRequest,
    path_parameters: dict[str, str],
    request_id: str,
    iam_arn: str | None = None,
) -> dict[str, Any]:
    """The REST API proxy event (payload 1.0) API Gateway sends for this request."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in request.headers:
        single[name] = value  # API Gateway keeps the last of repeated headers here
        multi.setdefault(name, []).append(value)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query_single[name] = value
        query_multi.setdefault(name, []).append(value)
    now = datetime.now(UTC)
    iam_match = IAM_ARN.match(iam_arn or "")
    iam_account = iam_match.group(2) if iam_match else None
    identity = {
        "cognitoIdentityPoolId": None,
        "accountId": iam_account,
        "cognitoIdentityId": None,
        "caller": iam_arn,
        "sourceIp": request.source_ip,
        "principalOrgId": None,
        "accessKey": "ASIALOCALSTACKEXAMPLE" if iam_arn else None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": iam_arn,
        "userAgent": single.get("User-Agent") or single.get("user-agent"),
        "user": iam_arn,
    }
    host = single.get("Host") or single.get("host") or "127.0.0.1"
    return {
        "resource": route.resource,
        "path": request.raw_path,  # REST APIs pass the path still percent-encoded
        "httpMethod": request.method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local0",
            "resourcePath": route.resource,
            "httpMethod": request.method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{request.raw_path}",
            "accountId": ACCOUNT_ID,
            "protocol": "HTTP/1.1",
            "stage": STAGE,
            "domainPrefix": host.split(".")[0],
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": identity,
            "domainName": host,
            "apiId": "local",
        },
        "body": request.body.decode("utf-8", errors="replace") if request.body else None,
        "isBase64Encoded": False,
    }


def proxy_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body from a Lambda proxy response; ValueError when it is not one."""
    if not isinstance(result, dict) or not str(result.get("statusCode", "")).isdigit():
        raise ValueError("not a proxy response")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    for name, values in multi.items():
        headers.extend((name, str(v)) for v in values)
    # When both are set, API Gateway keeps multiValueHeaders' values for a name present in both.
    taken = {name.lower() for name in multi}
    headers.extend((n, str(v)) for n, v in (result.get("headers") or {}).items() if n.lower() not in taken)
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    return int(result["statusCode"]), headers, data


def error_body(code: str, message: str, request_id: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "requestId": request_id}}).encode()


# API Gateway's own answers when template.yaml has no GatewayResponses for them: (status, code, message).
_OWN_ANSWERS = {
    "MISSING_AUTHENTICATION_TOKEN": (404, "not_found", "No such route."),
    "ACCESS_DENIED": (403, "forbidden", "This route needs a request signed with AWS credentials."),
    "INVALID_SIGNATURE": (401, "unauthenticated", "The request signature could not be verified."),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "The request body is too large."),
    "DEFAULT_5XX": (502, "internal_error", "The service failed. Try again later."),
}


def own_answer(
    responses: Mapping[str, Any], kind: str, request_id: str
) -> tuple[int, list[tuple[str, str]], bytes]:
    """API Gateway's own answer of a response type, shaped by the template's GatewayResponses."""
    status, code, message = _OWN_ANSWERS[kind]
    spec = responses.get(kind)
    if spec is not None:
        status = int(spec.get("StatusCode", status))
    else:
        spec = responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX") or {}
    headers = [("Content-Type", "application/json; charset=utf-8"), ("x-amzn-RequestId", request_id)]
    for name, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items():
        headers.append((name, str(value).strip("'")))  # static values are quoted, as in API Gateway
    template = (spec.get("ResponseTemplates") or {}).get("application/json")
    if template:
        body = template.replace("$context.requestId", request_id).encode()
    else:
        body = error_body(code, message, request_id)
    return status, headers, body


def find_route(routes: list[Route], method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    for route in routes:
        if route.method in (method, "ANY") and (params := route.match(raw_path)) is not None:
            return route, params
    return None
