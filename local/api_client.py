"""Calling the handlers in this process as API Gateway would, with tokens a test JWKS server vouches for.

The tests' `api` fixture and the benchmarks share these: the sample events in events/, a token minted
by the development issuer, the Atlassian simulator's accounts, and a JWKS served over real HTTP.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from types import ModuleType
from typing import Any
from urllib.parse import quote

from local.atlassian_sim import ADMIN_ACCOUNT, SYSTEM_TOKEN_PREFIX
from local.dev_issuer import DevTokenIssuer, installation
from local.lambdas import REPO, LambdaContext, reset_container_caches
from local.serving import BackgroundServer

APP_ID = "ari:cloud:ecosystem::app/11111111-2222-4333-8444-555555555555"
SYSTEM_TOKEN = f"{SYSTEM_TOKEN_PREFIX}-tests"


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    raw: str


class JwksServer(BackgroundServer):
    """Serves an issuer's JWKS over real HTTP, as Forge's CDN does; `jwks` can be swapped by tests."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        super().__init__("127.0.0.1", 0, "jwks")
        self.jwks = jwks
        self.fetches = 0
        self.failure: tuple[int, bytes] | None = None  # (status, body) answered instead, when set
        self.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/.well-known/jwks.json"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.fetches += 1
                status, body = server.failure or (200, json.dumps(server.jwks).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def sample_event(name: str) -> dict[str, Any]:
    """events/<name>.json, read afresh: the caller may change it."""
    event: dict[str, Any] = json.loads((REPO / "events" / f"{name}.json").read_text())
    return event


def as_operator(event: dict[str, Any], tenant_id: str | None, arn: str) -> None:
    """Turn an /api-info sample event into its /ops twin, as API Gateway sends it for a signed call."""
    tenant_id = tenant_id or ""
    if not event["resource"].startswith("/ops/"):
        event["resource"] = "/ops/tenants/{tenantId}" + event["resource"]
        event["requestContext"]["resourcePath"] = event["resource"]
    event["path"] = event["resource"].replace("{tenantId}", quote(tenant_id, safe=""))
    event["pathParameters"] = {"tenantId": tenant_id}  # API Gateway decodes path parameters
    identity = event["requestContext"]["identity"]
    identity.update({"userArn": arn or None, "caller": arn or None, "user": arn or None})


class Api:
    """Calls the handlers with sample events, a freshly minted token and the simulator as Atlassian."""

    def __init__(
        self, handlers: dict[tuple[str, str], ModuleType], issuer: DevTokenIssuer, sim_url: str
    ) -> None:
        self.handlers = handlers
        self.issuer = issuer
        self.sim_url = sim_url
        self.answers: list[Answer] = []
        self.remaining_ms = 15_000  # what the Lambda context says is left of the invocation

    def new_container(self) -> None:
        """The next calls run as in a fresh Lambda container: nothing cached, AWS state kept."""
        reset_container_caches()

    def token(self, *, tenant: str = "acme", account: str | None = ADMIN_ACCOUNT, **overrides: Any) -> str:
        ids = installation(tenant)
        return self.issuer.mint(
            installation_id=ids["installationId"],
            account_id=account,
            cloud_id=ids["cloudId"],
            site_url=self.sim_url,
            api_base_url=f"{self.sim_url}/ex/jira/{ids['cloudId']}",
            **overrides,
        )

    def call(
        self,
        sample: str,
        *,
        body: Any = None,
        raw_body: str | None = None,
        tenant: str = "acme",
        account: str | None = ADMIN_ACCOUNT,
        token: str | None = None,
        headers: dict[str, str | None] | None = None,
        query: dict[str, str] | None = None,
        path_parameters: dict[str, str] | None = None,
        operator: str | None = None,
        ops_tenant: str | None = None,
    ) -> Answer:
        """Run the handler for events/<sample>.json with this request's token, body and headers.

        With `operator` (an IAM ARN, or "" for none) the request goes to the /ops twin of the route,
        for the installation id `ops_tenant` (default: that of `tenant`), as API Gateway's AWS_IAM
        authorization passes it on.
        """
        if operator is not None and ops_tenant is None:
            ops_tenant = installation(tenant)["installationId"]
        event = sample_event(sample)
        event["headers"]["Authorization"] = f"Bearer {token or self.token(tenant=tenant, account=account)}"
        if "x-forge-oauth-system" in event["headers"]:
            event["headers"]["x-forge-oauth-system"] = SYSTEM_TOKEN
        for name, value in (headers or {}).items():
            if value is None:
                event["headers"].pop(name, None)
            else:
                event["headers"][name] = value
        if raw_body is not None:
            event["body"] = raw_body
        elif body is not None:
            event["body"] = json.dumps(body)
        if query is not None:
            event["queryStringParameters"] = query
            event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()}
        if path_parameters is not None:
            event["pathParameters"] = path_parameters
        if operator is not None:
            as_operator(event, ops_tenant, operator)
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        module = self.handlers[(event["httpMethod"], event["resource"])]
        result = module.lambda_handler(event, LambdaContext(remaining_ms=self.remaining_ms))
        raw = result.get("body") or ""
        answer = Answer(
            status=result["statusCode"],
            headers={
                **{k.lower(): v[-1] for k, v in (result.get("multiValueHeaders") or {}).items()},
                **{k.lower(): v for k, v in (result.get("headers") or {}).items()},
            },
            body=json.loads(raw) if raw else None,
            raw=raw,
        )
        self.answers.append(answer)
        return answer
