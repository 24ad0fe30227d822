"""The stack in one process, for the benchmarks: the real handlers over moto, Atlassian answered by respx.

What a request costs is recorded here: every AWS call the store's clients make (botocore's
`after-call` event, with the answer) and every Atlassian request (respx). A recording is what the
warm benchmark replays with botocore's Stubber and what the cold-start children replay, so both
measure the real code path with AWS answering instantly.

Run in a process of its own (bench/warm.py is one): it sets AWS and settings variables in
os.environ and starts moto for the life of the process.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[1]
# As in Lambda (the layer's python/ folder) and as pytest's pythonpath says.
for _path in (REPO / "layers" / "shared", REPO):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
from local.api_client import APP_ID  # noqa: E402
from local.atlassian_sim import ADMIN_ACCOUNT as ADMIN  # noqa: E402
from local.atlassian_sim import SYSTEM_TOKEN_PREFIX  # noqa: E402

SITE_URL = "https://acme.atlassian.net"
API_URL = "https://api.atlassian.com"
REGION = "us-east-1"
# The simulator accepts these too, so the cold-start children can use it over HTTP.
KEY_BODY = {"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": "2099-01-01"}
TOKEN_BODY = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
TENANT = "acme"


@dataclass(frozen=True)
class Case:
    """One route as the benchmarks call it: a sample event, a body, an Idempotency-Key or not, and
    whether it goes to the operators' IAM twin of the route."""

    name: str
    sample: str  # events/<sample>.json
    body: dict[str, Any] | None = None
    keyed: bool = False  # sends a fresh Idempotency-Key, as the settings page does
    operator: bool = False  # the /ops/tenants/{tenantId} twin, signed by an IAM identity


GET_INFO = Case("GET /api-info", "get_info")
CHANGE_KEY = Case("PUT /api-info/key", "change_key", KEY_BODY, keyed=True)
CHANGE_TOKEN = Case("PUT /api-info/token", "change_token", TOKEN_BODY, keyed=True)
UNINSTALL = Case("POST /lifecycle/uninstalled", "uninstalled")
FORGE_CASES = [
    GET_INFO,
    CHANGE_KEY,
    CHANGE_TOKEN,
    Case("GET /api-info/history", "history"),
    Case("DELETE /api-info/key", "delete_key"),
    Case("DELETE /api-info/token", "delete_token"),
    UNINSTALL,
]
OPS = "/ops/tenants/{tenantId}"


def ops_twin(case: Case) -> Case:
    """The operators' IAM twin of a Forge route (every /api-info route has one)."""
    method, path = case.name.split(" ", 1)
    return Case(f"{method} {OPS}{path}", case.sample, case.body, case.keyed, operator=True)


CASES = FORGE_CASES + [ops_twin(case) for case in FORGE_CASES if " /api-info" in case.name]
OPERATOR_ARN = "arn:aws:iam::123456789012:user/bench-operator"


@dataclass
class Recording:
    """What one request cost: AWS calls (service, operation, HTTP status, parsed answer) and Atlassian
    requests (method, path)."""

    aws: list[tuple[str, str, int, dict[str, Any]]] = field(default_factory=list)
    atlassian: list[tuple[str, str]] = field(default_factory=list)
    status: int = 0

    def count(self, service: str) -> int:
        return sum(1 for s, *_ in self.aws if s == service)


def lambda_environment(function_dir: Path, name: str) -> dict[str, str]:
    """The variables the Lambda runtime sets that the code or Powertools read (tracing on)."""
    return {
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(function_dir),
        "_HANDLER": "app.lambda_handler",
        "_X_AMZN_TRACE_ID": "Root=1-67a1b2c3-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1",
        "TZ": ":UTC",
    }


class Stack:
    """moto with template.yaml's resources, the handlers, a JWKS over HTTP and respx as Atlassian."""

    def __init__(self) -> None:
        import respx
        from moto import mock_aws

        from local.api_client import JwksServer
        from local.dev_issuer import DevTokenIssuer, installation
        from local.lambdas import load_handlers
        from local.resources import create_resources

        for name, value in {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            os.environ[name] = value
        os.environ.pop("AWS_ENDPOINT_URL", None)
        self._mock: Any = mock_aws()
        self._mock.start()
        resources = create_resources(REPO / "template.yaml", parameter_overrides={"ForgeAppId": APP_ID})
        self.function_env = resources.functions
        self.issuer = DevTokenIssuer(APP_ID)
        self.jwks = JwksServer(self.issuer.jwks())
        self.ids = installation(TENANT)
        os.environ.update(resources.environment)
        os.environ.update(
            {
                "FORGE_APP_ID": APP_ID,
                "FORGE_JWKS_URL": self.jwks.url,
                "ATLASSIAN_API_URL": API_URL,
            }
        )
        self.fresh_container()
        self.handlers: dict[tuple[str, str], ModuleType] = load_handlers()
        self.router = respx.mock(assert_all_mocked=True, assert_all_called=False)
        self._atlassian_routes()
        self.router.start()
        self.token = self.mint()
        self.lifecycle_token = self.mint(account_id=None)  # Forge's lifecycle trigger runs without a user

    def stop_aws(self) -> None:
        """Stop moto: after recording, every AWS answer comes from a Stubber (moto's own hooks, its
        X-Ray mock among them, would otherwise run inside the timed calls)."""
        if self._mock is not None:
            self._mock.stop()
            self._mock = None

    def close(self) -> None:
        self.router.stop()
        self.jwks.stop()
        self.stop_aws()

    def mint(self, account_id: str | None = ADMIN, **urls: str) -> str:
        """A Forge Invocation Token of the administrator, valid for an hour (verification still runs)."""
        return self.issuer.mint(
            installation_id=self.ids["installationId"],
            account_id=account_id,
            cloud_id=self.ids["cloudId"],
            site_url=urls.get("site_url", SITE_URL),
            api_base_url=urls.get("api_base_url", f"{API_URL}/ex/jira/{self.ids['cloudId']}"),
            ttl_seconds=3600,
        )

    def _atlassian_routes(self) -> None:
        import httpx

        cloud = self.ids["cloudId"]
        # The JWKS is a real server of this process; the service fetches it with the same httpx client.
        self.router.get(self.jwks.url).pass_through()
        self.router.post(f"{API_URL}/ex/jira/{cloud}/rest/api/3/permissions/check").mock(
            return_value=httpx.Response(200, json={"globalPermissions": ["ADMINISTER"]})
        )
        self.router.get(f"{API_URL}/admin/v1/orgs").mock(
            return_value=httpx.Response(
                200, json={"data": [{"id": "org-1", "attributes": {"name": "Acme"}}], "links": {}}
            )
        )
        self.router.get(url__regex=rf"^{API_URL}/admin/v1/orgs/org-1/users").mock(
            return_value=httpx.Response(200, json={"data": [], "links": {}})
        )
        # The key's organization holds the site (one page of workspaces), and lists the key (one page).
        self.router.post(url__regex=rf"^{API_URL}/admin/v2/orgs/org-1/workspaces").mock(
            return_value=httpx.Response(
                200,
                json={
                    "data": [{"id": f"ari:cloud:jira::site/{cloud}", "attributes": {"hostUrl": SITE_URL}}],
                    "links": {},
                },
            )
        )
        self.router.get(url__regex=rf"^{API_URL}/admin/api-access/v1/orgs/org-1/api-keys").mock(
            return_value=httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "id": "key-1",
                            "expiresAt": "2027-06-01T00:00:00.000Z",
                            "lastActiveAt": "2026-12-01T00:00:00.000Z",
                            "scopes": [],
                            "revocationDate": None,
                        }
                    ],
                    "links": {},
                },
            )
        )
        # The change path's display-name lookup of the administrator who saved (the history's "By").
        self.router.get(f"{API_URL}/ex/jira/{cloud}/rest/api/3/user").mock(
            return_value=httpx.Response(200, json={"accountId": ADMIN, "displayName": "Ada Admin"})
        )
        # A token save with a valid key stored learns the token's expiry from this one-page listing.
        self.router.get(url__regex=rf"^{API_URL}/admin/api-access/v1/orgs/org-1/api-tokens").mock(
            return_value=httpx.Response(
                200,
                json={
                    "data": [
                        {
                            "id": "tok-1",
                            "label": "bench",
                            "user": {"id": "acc-ada"},
                            "expiresAt": "2027-06-01T00:00:00.000Z",
                            "lastActiveAt": "2026-12-01T00:00:00.000Z",
                        }
                    ],
                    "links": {},
                },
            )
        )
        self.router.get(f"{SITE_URL}/rest/api/3/myself").mock(
            return_value=httpx.Response(
                200,
                json={
                    "accountId": "acc-ada",
                    "displayName": "Ada Admin",
                    "emailAddress": TOKEN_BODY["email"],
                    "active": True,
                },
            )
        )

    # --- requests -------------------------------------------------------------------------------

    def event(self, case: Case, token: str | None = None) -> dict[str, Any]:
        """The sample event of a case with the token, the body and (if keyed) a fresh Idempotency-Key;
        for an operator's case, its /ops twin as API Gateway passes a signed call."""
        from local.api_client import as_operator

        event: dict[str, Any] = json.loads((REPO / "events" / f"{case.sample}.json").read_text())
        headers = event["headers"]
        lifecycle = case.sample == "uninstalled"
        headers["Authorization"] = f"Bearer {token or (self.lifecycle_token if lifecycle else self.token)}"
        if "x-forge-oauth-system" in headers:
            headers["x-forge-oauth-system"] = f"{SYSTEM_TOKEN_PREFIX}-bench"
        if case.operator:
            as_operator(event, self.ids["installationId"], OPERATOR_ARN)
            headers.pop("x-forge-oauth-system", None)
            headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/..."
        if case.keyed:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        if case.body is not None:
            event["body"] = json.dumps(case.body)
        event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
        event["requestContext"]["requestId"] = str(uuid.uuid4())
        return event

    def handler(self, case: Case) -> Any:
        event = self.event(case)
        return self.handlers[(event["httpMethod"], event["resource"])].lambda_handler

    def call(self, case: Case) -> dict[str, Any]:
        from local.lambdas import LambdaContext

        answer: dict[str, Any] = self.handler(case)(self.event(case), LambdaContext())
        return answer

    # --- state ----------------------------------------------------------------------------------

    def fresh_container(self) -> None:
        """Forget every per-container cache, as a new Lambda sandbox would start."""
        from local.lambdas import reset_container_caches

        reset_container_caches()

    def prepare(self) -> None:
        """A known tenant with both credentials saved, its administrator's answer cached, the JWKS
        fetched and the fingerprint key read: the warm steady state the budget is written for.
        The tenant is wiped first, so that every recording starts from the same items."""
        for case in (UNINSTALL, GET_INFO, CHANGE_KEY, CHANGE_TOKEN):
            answer = self.call(case)
            if answer["statusCode"] >= 300:
                raise RuntimeError(f"preparing with {case.name} answered {answer['statusCode']}: {answer}")

    @contextmanager
    def recording(self) -> Iterator[Recording]:
        """Record what the block costs."""
        from api_info.wiring import services

        rec = Recording()

        def after_call(http_response: Any, parsed: dict[str, Any], model: Any, **kwargs: Any) -> None:
            rec.aws.append(
                (
                    model.service_model.service_name,
                    model.name,
                    http_response.status_code,
                    copy.deepcopy(parsed),
                )
            )

        clients = [services().tenants.dynamodb, services().secrets.client]
        for client in clients:
            client.meta.events.register("after-call.*.*", after_call, unique_id="bench-record")
        seen = len(self.router.calls)
        try:
            yield rec
        finally:
            for client in clients:
                client.meta.events.unregister("after-call.*.*", unique_id="bench-record")
            rec.atlassian = [  # the JWKS is Forge's, not Atlassian's API: not counted
                (call.request.method, call.request.url.path)
                for call in list(self.router.calls)[seen:]
                if not str(call.request.url).startswith(self.jwks.url)
            ]

    def record(self, case: Case, *, fresh: bool = False) -> Recording:
        """One request of a case in the warm steady state, or (fresh) as a new container's first."""
        self.prepare()
        if fresh:
            self.fresh_container()
        with self.recording() as rec:
            answer = self.call(case)
        rec.status = answer["statusCode"]
        if rec.status >= 300:
            raise RuntimeError(f"{case.name} answered {rec.status}: {answer.get('body')}")
        return rec
