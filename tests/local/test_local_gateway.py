"""The local gateway: routes from a template, REST proxy events, IAM stand-in, Lambda-like containers."""

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.apigw import build_routes
from local.cfn import functions, load_template
from local.dev_issuer import DevTokenIssuer
from local.gateway import LocalGateway
from local.sigv4 import Signer

APP_ID = "ari:cloud:ecosystem::app/00000000-0000-4000-8000-000000000000"
OPERATOR = Signer("AKIDLOCAL", "local-secret", "arn:aws:iam::123456789012:user/local-operator")

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Memory:
    Type: Number
    Default: 256
Globals:
  Function:
    Runtime: python3.11
    Handler: app.lambda_handler
    Timeout: 5
    MemorySize: !Ref Memory
    Environment:
      Variables:
        FROM_TEMPLATE: template
        OVERRIDDEN: template
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: v1
      GatewayResponses:
        MISSING_AUTHENTICATION_TOKEN:
          StatusCode: "404"
          ResponseTemplates:
            application/json: >-
              {"error":{"code":"not_found","message":"Template.","requestId":"$context.requestId"}}
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/echo
      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /items, Method: GET}
        Fixed:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /items/special, Method: GET}
        One:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/items/{itemId}", Method: GET}
        Ops:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: "/ops/tenants/{tenantId}/items"
            Method: PUT
            Auth: {Authorizer: AWS_IAM}
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/other
      Handler: main.handle
      Timeout: 1
      Events:
        Any:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/other/{action}", Method: ANY}
"""

ECHO = """\
import json
import os

calls = 0  # module state: one container keeps it between requests


def lambda_handler(event, context):
    global calls
    calls += 1
    print(json.dumps({"message": "echo on stdout"}))
    body = {
        "event": event,
        "calls": calls,
        "pid": os.getpid(),
        "env": {k: os.environ.get(k) for k in ("FROM_TEMPLATE", "OVERRIDDEN", "AWS_LAMBDA_FUNCTION_NAME")},
        "context": {
            "function_name": context.function_name,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "remaining": context.get_remaining_time_in_millis(),
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
        },
        "module": __name__,
    }
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Single": "s"},
        "multiValueHeaders": {"X-Multi": ["a", "b"]},
        "body": json.dumps(body),
    }
"""

OTHER = """\
import os
import time

VERSION = "v1"


def handle(event, context):
    action = event["pathParameters"]["action"]
    if action == "raise":
        raise RuntimeError("boom")
    if action == "exit":
        os._exit(3)
    if action == "sleep":
        time.sleep(float((event["queryStringParameters"] or {}).get("s", "3")))
    if action == "bad":
        return {"no": "statusCode"}
    if action == "big":
        return {"statusCode": 200, "body": "x" * 300_000}
    return {"statusCode": 201, "body": f"{VERSION} {os.getpid()}", "headers": {"Content-Type": "text/plain"}}
"""


def write_project(root: Path) -> Path:
    (root / "functions" / "echo").mkdir(parents=True)
    (root / "functions" / "other").mkdir(parents=True)
    (root / "functions" / "echo" / "app.py").write_text(ECHO)
    (root / "functions" / "other" / "main.py").write_text(OTHER)
    (root / "page").mkdir()
    (root / "page" / "index.html").write_text("<p>page</p>")
    (root / "page" / "app.js").write_text("console.log(1)")
    (root / "secret.txt").write_text("outside the page folder")
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    return template


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="module")
def issuer() -> DevTokenIssuer:
    return DevTokenIssuer(APP_ID)


@pytest.fixture(scope="module")
def gateway(project: Path, issuer: DevTokenIssuer) -> Iterator[LocalGateway]:
    gw = LocalGateway(
        project,
        env={"OVERRIDDEN": "setting"},
        function_env={"EchoFunction": {"FROM_FUNCTION": "x"}},
        port=0,
        issuer=issuer,
        atlassian_url="http://127.0.0.1:9",
        page_dir=project.parent / "page",
        signers={OPERATOR.access_key_id: OPERATOR},
    )
    gw.start()
    yield gw
    gw.stop()


@pytest.fixture()
def http(gateway: LocalGateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client


# --- routes -------------------------------------------------------------------------------------


def test_routes_come_from_api_events(project: Path) -> None:
    routes = build_routes(functions(load_template(project)))
    found = {(r.method, r.resource, r.iam, r.function.logical_id) for r in routes}
    assert found == {
        ("GET", "/items", False, "EchoFunction"),
        ("GET", "/items/special", False, "EchoFunction"),
        ("GET", "/items/{itemId}", False, "EchoFunction"),
        ("PUT", "/ops/tenants/{tenantId}/items", True, "EchoFunction"),
        ("ANY", "/other/{action}", False, "OtherFunction"),
    }
    other = next(r for r in routes if r.function.logical_id == "OtherFunction").function
    assert (other.handler, other.timeout, other.memory_size) == ("main.handle", 1, 256)


def test_fixed_path_wins_over_parameter(gateway: LocalGateway) -> None:
    route, params = gateway.find_route("GET", "/items/special")  # type: ignore[misc]
    assert route.resource == "/items/special"
    assert params == {}
    route, params = gateway.find_route("GET", "/items/a%2Fb%3Ac")  # type: ignore[misc]
    assert route.resource == "/items/{itemId}"
    assert params == {"itemId": "a/b:c"}
    # decoded once, as API Gateway does: an id encoded twice reaches the function encoded once
    assert gateway.find_route("GET", "/items/a%252Fb%253Ac") == (route, {"itemId": "a%2Fb%3Ac"})
    assert gateway.find_route("GET", "/items/a/b") is None
    assert gateway.find_route("DELETE", "/items") is None


# --- the event ----------------------------------------------------------------------------------


def test_rest_proxy_event_shape(http: httpx.Client) -> None:
    answer = http.get(
        "/items/ari%3Acloud%3Aecosystem%3A%3Ainstallation%2Fabc?limit=5&tag=a&tag=b&empty=",
        headers={"X-Custom": "1"},
    )
    assert answer.status_code == 200
    event = answer.json()["event"]
    assert event["resource"] == "/items/{itemId}"
    assert event["path"] == "/items/ari%3Acloud%3Aecosystem%3A%3Ainstallation%2Fabc"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"itemId": "ari:cloud:ecosystem::installation/abc"}
    assert event["queryStringParameters"] == {"limit": "5", "tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"], "tag": ["a", "b"], "empty": [""]}
    assert event["headers"]["X-Custom"] == "1"
    assert event["multiValueHeaders"]["X-Custom"] == ["1"]
    assert event["stageVariables"] is None
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["stage"] == "local"
    assert ctx["resourcePath"] == "/items/{itemId}"
    assert ctx["httpMethod"] == "GET"
    assert ctx["path"] == "/local" + event["path"]
    assert ctx["requestId"] == answer.headers["x-amzn-RequestId"]
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["identity"]["userArn"] is None


def test_body_and_no_query(http: httpx.Client) -> None:
    # GET with a body is odd but API Gateway passes it on; it shows the body is a string
    answer = http.request("GET", "/items", content=b'{"a": 1}')
    event = answer.json()["event"]
    assert event["body"] == '{"a": 1}'
    assert event["queryStringParameters"] is None
    assert event["pathParameters"] is None


def test_lambda_context_and_environment(http: httpx.Client) -> None:
    data = http.get("/items").json()
    ctx = data["context"]
    assert ctx["function_name"] == "EchoFunction"
    assert ctx["memory_limit_in_mb"] == 256
    assert ctx["invoked_function_arn"].endswith(":function:EchoFunction")
    assert ctx["aws_request_id"] == data["event"]["requestContext"]["requestId"]
    assert 0 < ctx["remaining"] <= 5000
    assert ctx["log_group_name"] == "/aws/lambda/EchoFunction"
    assert data["env"] == {
        "FROM_TEMPLATE": None,
        "OVERRIDDEN": "setting",
        "AWS_LAMBDA_FUNCTION_NAME": "EchoFunction",
    }
    assert data["module"] != "app"  # a module name of its own per function


def test_proxy_response_headers_are_written(http: httpx.Client) -> None:
    answer = http.get("/items")
    assert answer.headers["X-Single"] == "s"
    assert answer.headers.get_list("X-Multi") == ["a", "b"]
    assert answer.headers["Content-Type"] == "application/json"


# --- IAM routes ---------------------------------------------------------------------------------


def test_iam_route_without_the_local_header_is_403(http: httpx.Client) -> None:
    answer = http.put("/ops/tenants/t1/items", json={})
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "forbidden"
    assert error["requestId"] == answer.headers["x-amzn-RequestId"]


def test_iam_route_with_a_malformed_arn_is_403(http: httpx.Client) -> None:
    answer = http.put("/ops/tenants/t1/items", json={}, headers={"X-Local-Iam-User-Arn": "alice"})
    assert answer.status_code == 403


def test_iam_route_puts_the_arn_into_the_identity(http: httpx.Client) -> None:
    arn = "arn:aws:iam::111122223333:user/alice"
    answer = http.put("/ops/tenants/t%201/items", json={"x": 1}, headers={"X-Local-Iam-User-Arn": arn})
    assert answer.status_code == 200
    event = answer.json()["event"]
    identity = event["requestContext"]["identity"]
    assert (identity["userArn"], identity["caller"], identity["user"]) == (arn, arn, arn)
    assert identity["accountId"] == "111122223333"
    assert event["pathParameters"] == {"tenantId": "t 1"}
    assert json.loads(event["body"]) == {"x": 1}
    assert not any(name.lower() == "x-local-iam-user-arn" for name in event["headers"])


def sigv4_put(http: httpx.Client, path: str, body: bytes, secret: str) -> httpx.Response:
    """PUT signed with botocore's signer, as awscurl and scripts/smoke.py sign."""
    url = f"{http.base_url}".rstrip("/") + path
    request = AWSRequest(method="PUT", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(OPERATOR.access_key_id, secret), "execute-api", "us-east-1").add_auth(request)
    return http.put(path, content=body, headers=dict(request.headers.items()))


def test_iam_route_signed_with_a_known_key_is_that_keys_principal(http: httpx.Client) -> None:
    answer = sigv4_put(http, "/ops/tenants/t%2F1/items", b'{"x": 1}', OPERATOR.secret_access_key)

    assert answer.status_code == 200
    event = answer.json()["event"]
    assert event["requestContext"]["identity"]["userArn"] == OPERATOR.arn
    assert event["pathParameters"] == {"tenantId": "t/1"}


def test_iam_route_with_a_bad_signature_is_401_and_reaches_no_function(http: httpx.Client) -> None:
    answer = sigv4_put(http, "/ops/tenants/t1/items", b"{}", "not-the-secret")

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthenticated"
    assert "event" not in answer.json()


# --- gateway answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("DELETE", "/items"), ("POST", "/items/1")])
def test_unknown_route_or_method_uses_the_template_gateway_response(
    http: httpx.Client, method: str, path: str
) -> None:
    answer = http.request(method, path)
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert (error["code"], error["message"]) == ("not_found", "Template.")
    assert error["requestId"] == answer.headers["x-amzn-RequestId"]


def test_without_gateway_responses_the_contract_shape_is_used(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    gw = LocalGateway(template, port=0)
    with httpx.Client(base_url=gw.start()) as http:
        try:
            answer = http.get("/nope")
        finally:
            gw.stop()
    assert answer.status_code == 404
    assert answer.json() == {
        "error": {
            "code": "not_found",
            "message": "No such route.",
            "requestId": answer.headers["x-amzn-RequestId"],
        }
    }


def host(gateway: LocalGateway) -> bytes:
    """The Host header line of a request to the gateway."""
    return f"Host: 127.0.0.1:{gateway.port}\r\n".encode()


def raw_exchange(gateway: LocalGateway, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send bytes no HTTP client would and read the answer: its status and JSON body."""
    with socket.create_connection((gateway.host, gateway.port), timeout=10) as sock:
        sock.sendall(request)
        answer = HTTPResponse(sock)
        answer.begin()
        return answer.status, json.loads(answer.read())


@pytest.mark.parametrize(
    "target",
    [b"/nope%00", b"/items/%01", b"/items/a%7Fb", b"/items/%C2%85", b"/items\x00", b"/items/a\tb", b"/x\x0b"],
)
def test_a_path_with_a_control_character_is_the_unknown_route_answer(
    gateway: LocalGateway, target: bytes
) -> None:
    # encoded or raw, on a fixed path or in a path parameter: no route has one
    status, body = raw_exchange(gateway, b"GET " + target + b" HTTP/1.1\r\n" + host(gateway) + b"\r\n")
    assert status == 404
    assert (body["error"]["code"], body["error"]["message"]) == ("not_found", "Template.")


@pytest.mark.parametrize(
    ("request_bytes", "status", "code"),
    [
        (b"GET /items HTTP/2.0\r\n\r\n", 400, "bad_request"),
        (b"GET /a b HTTP/1.1\r\n\r\n", 400, "bad_request"),
        (b"NOT HTTP\r\n\r\n", 400, "bad_request"),
        (b"GET /items HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 413, "payload_too_large"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 413, "payload_too_large"),
        (
            b"GET /" + b"a" * 5_000 + b" HTTP/1.1\r\nHOST\r\n\r\n",
            404,
            "not_found",
        ),  # too long for a file name
    ],
)
def test_a_request_http_cannot_read_gets_a_4xx_in_the_contract_shape(
    gateway: LocalGateway, request_bytes: bytes, status: int, code: str
) -> None:
    answered, body = raw_exchange(gateway, request_bytes.replace(b"HOST\r\n", host(gateway)))
    assert (answered, body["error"]["code"]) == (status, code)
    assert body["error"]["requestId"]


@pytest.mark.parametrize(
    "hosts",
    [
        [b"evil.example:{port}"],  # a DNS-rebinding page: its own name, our address
        [b"evil.example"],
        [b"127.0.0.1.evil.example:{port}"],
        [b"127.0.0.1:1{port}"],  # another port
        [b"127.0.0.1"],  # without the port, which is not 80
        [b"localhost.:{port}"],
        [],  # none
        [b"127.0.0.1:{port}", b"evil.example:{port}"],  # two
    ],
)
def test_a_request_for_another_host_is_refused_and_reaches_no_function(
    gateway: LocalGateway, hosts: list[bytes]
) -> None:
    lines = b"".join(b"Host: " + h.replace(b"{port}", str(gateway.port).encode()) + b"\r\n" for h in hosts)

    status, body = raw_exchange(gateway, b"GET /items HTTP/1.1\r\n" + lines + b"\r\n")

    assert (status, body["error"]["code"]) == (400, "bad_request")


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost", "LocalHost", "[::1]"])
def test_a_request_for_the_address_served_on_is_answered(gateway: LocalGateway, name: str) -> None:
    status, _ = raw_exchange(gateway, f"GET /nope HTTP/1.1\r\nHost: {name}:{gateway.port}\r\n\r\n".encode())

    assert status == 404


@pytest.mark.parametrize(
    "lengths",
    [[b"3", b"4"], [b"3, 4"], [b"4", b"3, 4"]],
)
def test_two_different_content_lengths_are_refused(gateway: LocalGateway, lengths: list[bytes]) -> None:
    lines = b"".join(b"Content-Length: " + n + b"\r\n" for n in lengths)

    status, body = raw_exchange(gateway, b"POST /items HTTP/1.1\r\n" + host(gateway) + lines + b"\r\nabcd")

    assert (status, body["error"]["code"]) == (400, "bad_request")


def test_the_same_content_length_twice_is_read_once(gateway: LocalGateway) -> None:
    lines = b"Content-Length: 4\r\nContent-Length: 4\r\n"

    status, body = raw_exchange(gateway, b"GET /items HTTP/1.1\r\n" + host(gateway) + lines + b"\r\nabcd")

    assert status == 200
    assert body["event"]["body"] == "abcd"


# --- containers ---------------------------------------------------------------------------------


def test_warm_container_is_reused(http: httpx.Client) -> None:
    first = http.get("/items").json()
    second = http.get("/items").json()
    assert first["pid"] == second["pid"]
    assert second["calls"] == first["calls"] + 1


def test_concurrent_requests_get_their_own_containers_up_to_four(
    gateway: LocalGateway, http: httpx.Client
) -> None:
    results: list[httpx.Response] = []

    def call() -> None:
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            results.append(client.get("/other/sleep", params={"s": "0.4"}))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.status_code for r in results] == [201] * 6
    pids = {r.text.split()[1] for r in results}
    assert 2 <= len(pids) <= 4
    assert gateway.pools["OtherFunction"].size <= 4


def test_unhandled_exception_is_502_and_the_container_stays(http: httpx.Client) -> None:
    assert http.get("/other/ok").status_code == 201
    answer = http.post("/other/raise")
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "internal_error"
    after = http.get("/other/ok")
    assert after.status_code == 201


def test_dead_container_is_502_and_replaced(http: httpx.Client) -> None:
    answer = http.post("/other/exit")
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "internal_error"
    assert http.get("/other/ok").status_code == 201


def test_large_answers_and_bodies_pass_whole(http: httpx.Client) -> None:
    assert len(http.get("/other/big").text) == 300_000
    echoed = http.request("GET", "/items", content=b"y" * 200_000).json()
    assert len(echoed["event"]["body"]) == 200_000


def test_malformed_proxy_response_is_502(http: httpx.Client) -> None:
    assert http.get("/other/bad").status_code == 502


def test_timeout_is_502_and_the_container_replaced(http: httpx.Client) -> None:
    http.get("/other/ok")  # warm: only the 1 s timeout (+1 s grace) applies
    started = time.monotonic()
    answer = http.get("/other/sleep", params={"s": "5"})
    assert answer.status_code == 502
    assert time.monotonic() - started < 4
    assert http.get("/other/ok").status_code == 201


def test_code_change_starts_a_fresh_container(project: Path, http: httpx.Client) -> None:
    source = project.parent / "functions" / "other" / "main.py"
    assert http.get("/other/ok").text.startswith("v1")
    source.write_text(OTHER.replace('VERSION = "v1"', 'VERSION = "v2"'))
    later = time.time() + 5
    os.utime(source, (later, later))
    try:
        assert http.get("/other/ok").text.startswith("v2")
    finally:
        source.write_text(OTHER)
        os.utime(source, (later + 5, later + 5))


def test_broken_handler_module_is_502_until_fixed(tmp_path: Path) -> None:
    template = write_project(tmp_path)
    source = tmp_path / "functions" / "echo" / "app.py"
    source.write_text("import does_not_exist\n")
    gw = LocalGateway(template, port=0)
    with httpx.Client(base_url=gw.start(), timeout=30) as http:
        try:
            assert http.get("/items").status_code == 502
            source.write_text(ECHO)
            os.utime(source, (time.time() + 5, time.time() + 5))
            assert http.get("/items").status_code == 200
        finally:
            gw.stop()


# --- development endpoints, page, docs ----------------------------------------------------------


def test_dev_token_verifies_against_the_served_jwks(http: httpx.Client) -> None:
    answer = http.post("/dev/token")
    assert answer.status_code == 200
    data = answer.json()
    jwks = jwt.PyJWKSet.from_dict(http.get("/.well-known/jwks.json").json())
    claims = jwt.decode(
        data["token"],
        jwks[jwt.get_unverified_header(data["token"])["kid"]].key,
        algorithms=["RS256"],
        audience=APP_ID,
    )
    assert claims["principal"] == "sim-admin-0001"
    assert claims["app"]["installationId"] == data["installationId"]
    assert claims["context"]["cloudId"] == data["cloudId"]
    assert claims["context"]["siteUrl"] == data["siteUrl"] == "http://127.0.0.1:9"
    assert claims["app"]["apiBaseUrl"] == f"http://127.0.0.1:9/ex/jira/{data['cloudId']}"
    assert data["systemToken"] == "sim-system-token-acme"
    assert data["headers"] == {
        "Authorization": f"Bearer {data['token']}",
        "x-forge-oauth-system": "sim-system-token-acme",
    }


def test_dev_token_options_by_body_or_query(http: httpx.Client) -> None:
    by_body = http.post(
        "/dev/token", json={"account": "user", "installation": "globex", "ttlSeconds": 60}
    ).json()
    claims = jwt.decode(by_body["token"], options={"verify_signature": False})
    assert claims["principal"] == "sim-user-0002"
    assert claims["exp"] - claims["iat"] == 60
    assert by_body["systemToken"] == "sim-system-token-globex"
    by_query = http.post("/dev/token", params={"account": "acc-42"}).json()
    assert jwt.decode(by_query["token"], options={"verify_signature": False})["principal"] == "acc-42"


@pytest.mark.parametrize("body", [b"[1]", b"not json", b'{"ttlSeconds": "soon"}', b'{"installation": "a b"}'])
def test_dev_token_refuses_bad_input(http: httpx.Client, body: bytes) -> None:
    answer = http.post("/dev/token", content=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"


def test_no_dev_endpoints_without_issuer(project: Path) -> None:
    gw = LocalGateway(project, port=0)
    with httpx.Client(base_url=gw.start()) as http:
        try:
            assert http.post("/dev/token").status_code == 404
            assert http.get("/.well-known/jwks.json").status_code == 404
        finally:
            gw.stop()


def test_page_and_docs(http: httpx.Client) -> None:
    assert http.get("/").text == "<p>page</p>"
    assert http.get("/app.js").headers["content-type"].startswith("text/javascript")
    assert http.get("/swagger").status_code == 200
    assert http.get("/openapi.json").status_code == 404  # no docs/openapi.json in this project
    assert http.get("/%2e%2e/secret.txt").status_code == 404


@pytest.mark.parametrize("method", ["TRACE", "QUERY", "PROPFIND"])
def test_a_method_no_route_has_gets_the_unknown_route_answer(http: httpx.Client, method: str) -> None:
    answer = http.request(method, "/items")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_swagger_ui_is_served_from_an_installed_package(http: httpx.Client) -> None:
    # Offline: the Swagger UI files come from the Powertools package, not from a CDN.
    page = http.get("/swagger").text
    assert 'src="/swagger/swagger-ui-bundle.js"' in page
    bundle = http.get("/swagger/swagger-ui-bundle.js")
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("text/javascript")
    assert http.get("/swagger/swagger-ui.css").headers["content-type"].startswith("text/css")
    assert "requestInterceptor" in http.get("/swagger/local-init.js").text
    assert http.get("/swagger/%2e%2e/__init__.py").status_code == 404


def test_default_page_exists() -> None:
    assert (Path(__file__).parents[2] / "local" / "page" / "index.html").is_file()


def test_stop_ends_the_containers(project: Path) -> None:
    gw = LocalGateway(project, port=0)
    with httpx.Client(base_url=gw.start(), timeout=30) as http:
        assert http.get("/items").status_code == 200
    pool = gw.pools["EchoFunction"]
    procs = [c.proc for c in pool._all]
    gw.stop()
    assert procs
    assert all(p.poll() is not None for p in procs)
