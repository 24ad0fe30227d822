"""A small local API Gateway: REST API proxy events (payload 1.0) from template.yaml's Api events, each
function run in its own worker processes ("containers"), one request per container at a time, as Lambda does.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import json
import logging
import mimetypes
import os
import re
import select
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.cfn import ApiRoute, FunctionSpec, functions, gateway_responses, load_template
from local.dev_issuer import DevTokenIssuer, installation
from local.sigv4 import SignatureRefused, Signer, is_signed, verify

log = logging.getLogger(__name__)

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
STAGE = "local"
IAM_HEADER = "X-Local-Iam-User-Arn"
INIT_SECONDS = 10  # Lambda's limit on a function's init phase
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # where `local` is importable from
PAGE_DIR = Path(__file__).resolve().parent / "page"
_IAM_ARN = re.compile(r"^arn:aws[a-z-]*:(iam|sts)::(\d{12}):\S+$")
_INSTALLATION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# C0 and C1 control characters and DEL: no route has them, so a path holding one is an unknown route.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What to percent-encode in a raw request target: the bytes http.server would take for whitespace
# (it splits the request line on any of them) besides the control characters.
_RAW_UNSAFE = re.compile(rb"[\x00-\x20\x7f-\xa0]")
# Passed from the gateway's environment to the containers; everything else comes from the template.
_PASSED_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "TMPDIR")

# /swagger: Swagger UI from the flask-swagger-ui wheel's dist files (served under /swagger/, so it works
# offline); without that package, a plain list of the operations.
SWAGGER_UI_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API Information service: API</title>
<link rel="stylesheet" href="/swagger/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/swagger/swagger-ui-bundle.js"></script>
<script src="/swagger/local-init.js"></script>
</body></html>
"""
# Try it out: a request that carries no Authorization gets a fresh development token (they live 25 s).
SWAGGER_INIT = b"""window.ui = SwaggerUIBundle({
  url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true, persistAuthorization: true,
  presets: [SwaggerUIBundle.presets.apis], layout: "BaseLayout",
  requestInterceptor: async (request) => {
    const url = new URL(request.url, location.href);
    const hasAuth = Object.keys(request.headers || {}).some((h) => h.toLowerCase() === "authorization");
    if (url.origin !== location.origin || url.pathname === "/openapi.json" || hasAuth) return request;
    if (url.pathname.startsWith("/ops/")) return request;
    const answer = await fetch("/dev/token", { method: "POST" });
    if (answer.ok) Object.assign(request.headers, (await answer.json()).headers);
    return request;
  },
});
"""
SWAGGER_PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>API Information service: API</title></head>
<body><h1>API Information service</h1>
<p>The OpenAPI document is at <a href="/openapi.json">/openapi.json</a>.</p>
<ul id="ops"></ul>
<script>
fetch("/openapi.json").then(r => r.json()).then(doc => {
  for (const [path, item] of Object.entries(doc.paths || {}))
    for (const [method, op] of Object.entries(item)) {
      const li = document.createElement("li");
      li.textContent = method.toUpperCase() + " " + path + (op.summary ? " - " + op.summary : "");
      document.getElementById("ops").appendChild(li);
    }
}).catch(() => { document.getElementById("ops").textContent = "docs/openapi.json is not there yet."; });
</script></body></html>
"""


def swagger_ui_dir() -> Path | None:
    """Where Swagger UI's dist files are (the flask-swagger-ui wheel ships them), or None."""
    spec = importlib.util.find_spec("flask_swagger_ui")
    if spec is None or spec.origin is None:
        return None
    dist = Path(spec.origin).parent / "dist"
    return dist if (dist / "swagger-ui-bundle.js").is_file() else None


class InvokeError(Exception):
    """The function failed to give an answer (crash, timeout, unhandled exception, bad response)."""


# --- routes -------------------------------------------------------------------------------------


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


def build_event(
    route: Route,
    *,
    method: str,
    raw_path: str,
    query: str,
    headers: list[tuple[str, str]],
    body: bytes,
    path_parameters: dict[str, str],
    request_id: str,
    source_ip: str,
    iam_arn: str | None = None,
) -> dict[str, Any]:
    """The REST API proxy event (payload 1.0) API Gateway sends for this request."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value  # API Gateway keeps the last of repeated headers here
        multi.setdefault(name, []).append(value)
    query_single: dict[str, str] = {}
    query_multi: dict[str, list[str]] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        query_single[name] = value
        query_multi.setdefault(name, []).append(value)
    now = datetime.now(UTC)
    iam_match = _IAM_ARN.match(iam_arn or "")
    iam_account = iam_match.group(2) if iam_match else None
    identity = {
        "cognitoIdentityPoolId": None,
        "accountId": iam_account,
        "cognitoIdentityId": None,
        "caller": iam_arn,
        "sourceIp": source_ip,
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
        "path": raw_path,  # REST APIs pass the path still percent-encoded
        "httpMethod": method,
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": query_single or None,
        "multiValueQueryStringParameters": query_multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local0",
            "resourcePath": route.resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{raw_path}",
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
        "body": body.decode("utf-8", errors="replace") if body else None,
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


# --- containers ---------------------------------------------------------------------------------


class _Container:
    """One worker process running one function; answers come back on a pipe that is not its stdout."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str], cwd: Path, signature: int) -> None:
        self.signature = signature
        self.warm = False
        self.function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{spec.logical_id}"
        read_fd, write_fd = os.pipe()
        command = [sys.executable, "-m", "local.container", spec.code_uri, spec.handler]
        try:
            # stdout and stderr are inherited: the function's logs go to the terminal.
            self.proc = subprocess.Popen(  # noqa: S603 - our own module, no shell
                [*command, "--result-fd", str(write_fd)],
                cwd=cwd,
                env=env,
                stdin=subprocess.PIPE,
                pass_fds=(write_fd,),
            )
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        self._fd = read_fd
        self._buffer = b""

    def invoke(self, event: dict[str, Any], request_id: str, timeout: int) -> dict[str, Any]:
        # What Lambda's runtime API hands the runtime with each invocation.
        request = {
            "event": event,
            "requestId": request_id,
            "deadlineMs": int((time.time() + timeout) * 1000),
            "invokedFunctionArn": self.function_arn,
        }
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(request).encode() + b"\n")
        self.proc.stdin.flush()
        # A cold container first imports the function: Lambda gives init its own time.
        wait = timeout + 1 + (0 if self.warm else INIT_SECONDS)
        answer = json.loads(self._read_line(time.monotonic() + wait))
        self.warm = True
        return answer  # type: ignore[no-any-return]

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if ready:
                chunk = os.read(self._fd, 65536)
                if not chunk:
                    raise EOFError("the container exited")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def stop(self, wait: float = 2.0) -> None:
        """Closing stdin ends the worker's loop; kill it if it does not go in time."""
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            os.close(self._fd)


class FunctionPool:
    """Warm containers of one function: started on demand, up to max_size, reused, replaced when they die."""

    def __init__(
        self,
        spec: FunctionSpec,
        env: dict[str, str],
        cwd: Path,
        max_size: int = 4,
        watch: list[Path] | None = None,
    ) -> None:
        self.spec = spec
        self.env = env
        self.cwd = cwd
        self.max_size = max_size
        self.watch = watch or []
        self._idle: list[_Container] = []
        self._all: set[_Container] = set()
        self._cond = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        with self._cond:
            return len(self._all)

    def invoke(self, event: dict[str, Any], request_id: str) -> Any:
        """The handler's return value; InvokeError when the function gave none."""
        container = self._acquire()
        healthy = False
        try:
            answer = container.invoke(event, request_id, self.spec.timeout)
            healthy = not answer.get("fatal")
        except TimeoutError:
            log.error(
                "%s: task timed out after %d s; container stopped", self.spec.logical_id, self.spec.timeout
            )
            raise InvokeError from None
        except (EOFError, OSError, ValueError):
            log.error("%s: the container died during request %s", self.spec.logical_id, request_id)
            raise InvokeError from None
        finally:
            self._release(container, healthy)
        if "error" in answer:
            log.error("%s: invocation failed: %s", self.spec.logical_id, answer["error"].get("errorType"))
            raise InvokeError
        return answer["result"]

    def close(self) -> None:
        with self._cond:
            self._closed = True
            containers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._cond.notify_all()
        for container in containers:
            container.stop(wait=1.0)

    def _acquire(self) -> _Container:
        signature = self._code_signature()
        with self._cond:
            while True:
                if self._closed:
                    raise InvokeError
                if self._idle:
                    container = self._idle.pop()
                    if container.signature == signature:
                        return container
                    # The code changed since it started: let it go, like `sam local` picks up edits.
                    self._all.discard(container)
                    threading.Thread(target=container.stop, daemon=True).start()
                    continue
                if len(self._all) < self.max_size:
                    break
                self._cond.wait()
            log.info("%s: starting container %d", self.spec.logical_id, len(self._all) + 1)
            try:
                container = _Container(self.spec, self.env, self.cwd, signature)
            except OSError:
                log.exception("%s: could not start a container", self.spec.logical_id)
                raise InvokeError from None
            self._all.add(container)
            return container

    def _release(self, container: _Container, healthy: bool) -> None:
        with self._cond:
            if healthy and not self._closed and container in self._all:
                self._idle.append(container)
            else:
                self._all.discard(container)
                healthy = False
            self._cond.notify()
        if not healthy:
            threading.Thread(target=container.stop, args=(0.5,), daemon=True).start()

    def _code_signature(self) -> int:
        newest = 0
        for folder, pattern in (
            (self.cwd / self.spec.code_uri, "*.py"),
            *((w, "**/*.py") for w in self.watch),
        ):
            for path in folder.glob(pattern):
                try:
                    newest = max(newest, path.stat().st_mtime_ns)
                except OSError:
                    continue
        return newest


# --- the HTTP server ----------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5: a burst of connections overflowed it while the
    # gateway was busy and the kernel reset some of them. API Gateway answers every one; the kernel
    # caps this at net.core.somaxconn.
    request_queue_size = 1024
    daemon_threads = True


class LocalGateway:
    """Serves template.yaml's Api routes on http://host:port, plus the page, docs and dev token endpoints.

    function_env: environment per function logical id (e.g. from local.resources); env: settings that
    override it for every function. issuer: the development token issuer, or None when FORGE_JWKS_URL is
    the user's own. atlassian_url / site_url: what /dev/token puts into tokens (site defaults to the API URL).
    signers: access keys whose SigV4 signature an AWS_IAM route accepts (local.sigv4), by access key id.
    """

    def __init__(
        self,
        template_path: str | Path,
        *,
        env: Mapping[str, str] | None = None,
        function_env: Mapping[str, Mapping[str, str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 3000,
        issuer: DevTokenIssuer | None = None,
        atlassian_url: str = "https://api.atlassian.com",
        site_url: str | None = None,
        max_containers: int = 4,
        page_dir: Path = PAGE_DIR,
        signers: Mapping[str, Signer] | None = None,
    ) -> None:
        self.signers = dict(signers or {})
        self.template_path = Path(template_path).resolve()
        self.root = self.template_path.parent
        self.host = host
        self.port = port
        self.issuer = issuer
        self.atlassian_url = atlassian_url.rstrip("/")
        self.site_url = (site_url or atlassian_url).rstrip("/")
        self.page_dir = page_dir
        template = load_template(self.template_path)
        specs = functions(template)
        self.routes = build_routes(specs)
        self.responses = gateway_responses(template)
        layers = [p for p in (self.root / "layers" / "shared",) if p.is_dir()]
        self.pools = {
            spec.logical_id: FunctionPool(
                spec,
                self._container_env(spec, {**(function_env or {}).get(spec.logical_id, {}), **(env or {})}),
                self.root,
                max_containers,
                layers,
            )
            for spec in specs
        }
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start serving in a daemon thread; returns the base URL. Containers start on first use."""
        handler = type("Handler", (_GatewayHandler,), {"gateway": self})
        self._server = _Server((self.host, self.port), handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="gateway", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for pool in self.pools.values():
            pool.close()

    def _container_env(self, spec: FunctionSpec, variables: Mapping[str, str]) -> dict[str, str]:
        # A clean environment, as Lambda's: nothing of the developer's shell (proxies, AWS profiles) leaks in.
        env = {key: os.environ[key] for key in _PASSED_ENV if key in os.environ}
        env.update(
            {
                "AWS_REGION": REGION,
                "AWS_DEFAULT_REGION": REGION,
                "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
                "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.logical_id}",
                "AWS_LAMBDA_LOG_STREAM_NAME": f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]local",
                # What `sam local` sets; Powertools then leaves X-Ray alone.
                "AWS_SAM_LOCAL": "true",
                "PYTHONPATH": str(PACKAGE_ROOT),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(variables)
        return env

    def own_answer(self, kind: str, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        """API Gateway's own answer of a response type, shaped by the template's GatewayResponses."""
        status, code, message = _OWN_ANSWERS[kind]
        spec = self.responses.get(kind)
        if spec is not None:
            status = int(spec.get("StatusCode", status))
        else:
            spec = self.responses.get("DEFAULT_5XX" if status >= 500 else "DEFAULT_4XX") or {}
        headers = [("Content-Type", "application/json; charset=utf-8"), ("x-amzn-RequestId", request_id)]
        for name, value in ((spec.get("ResponseParameters") or {}).get("Headers") or {}).items():
            headers.append((name, str(value).strip("'")))  # static values are quoted, as in API Gateway
        template = (spec.get("ResponseTemplates") or {}).get("application/json")
        if template:
            body = template.replace("$context.requestId", request_id).encode()
        else:
            body = error_body(code, message, request_id)
        return status, headers, body

    def find_route(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        for route in self.routes:
            if route.method in (method, "ANY") and (params := route.match(raw_path)) is not None:
                return route, params
        return None


class _GatewayHandler(BaseHTTPRequestHandler):
    gateway: LocalGateway
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of API Gateway expect

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_OPTIONS(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, QUERY, ...) goes to the router too, which has no route for it: the
        # template's unknown-route answer, as API Gateway gives, not http.server's HTML 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("gateway: " + format, *args)

    def parse_request(self) -> bool:
        # Only a space ends the request target, but http.server splits the request line on any
        # whitespace (tab, vertical tab, NBSP, ...) and refuses the rest as malformed: encode such
        # bytes in the target first, so the path is routed (to 404) like one sent percent-encoded.
        words = self.raw_requestline.rstrip(b"\r\n").split(b" ")
        if len(words) == 3:
            target = _RAW_UNSAFE.sub(lambda m: b"%%%02X" % m.group()[0], words[1])
            self.raw_requestline = b" ".join((words[0], target, words[2])) + b"\r\n"
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own refusals of a request it cannot read (request line, version, header
        # lines): a 4xx in the contract's error shape, not its HTML page or a 505.
        log.info("gateway: refused a malformed request: %d %s", code, message)
        self.request_version = self.protocol_version  # so that a status line is written
        self.close_connection = True
        request_id = str(uuid.uuid4())
        if code in (HTTPStatus.REQUEST_URI_TOO_LONG, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE):
            self._error(
                413, "payload_too_large", "The request's address or headers are too large.", request_id
            )
        else:
            self._error(400, "bad_request", "The request is not valid HTTP.", request_id)

    def _serve(self) -> None:
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        # Not urlsplit: it reads "//x" as a host and raises on "//[", and API Gateway sees a path here.
        path, _, query = self.path.partition("?")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            status = self._own("REQUEST_TOO_LARGE", request_id)
            self.close_connection = True
        else:
            try:
                body = self.rfile.read(length) if length else b""
                status = self._dispatch(path or "/", query, body, request_id)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client went away; nobody to answer
                return
            except Exception:
                log.exception("gateway: unexpected error on %s %s", self.command, path)
                status = self._own("DEFAULT_5XX", request_id)
        log.info("%s %r -> %d (%d ms)", self.command, path, status, (time.monotonic() - started) * 1000)

    def _dispatch(self, path: str, query: str, body: bytes, request_id: str) -> int:
        gw = self.gateway
        if _CONTROL.search(unquote(path)):
            return self._own("MISSING_AUTHENTICATION_TOKEN", request_id)
        found = gw.find_route(self.command, path)
        if found is not None:
            return self._invoke(found[0], found[1], path, query, body, request_id)
        if gw.issuer is not None and path == "/.well-known/jwks.json" and self.command == "GET":
            return self._json(200, gw.issuer.jwks())
        if gw.issuer is not None and path == "/dev/token" and self.command == "POST":
            return self._dev_token(query, body, request_id)
        if self.command in ("GET", "HEAD"):
            swagger = swagger_ui_dir()
            if path == "/swagger":
                page = SWAGGER_UI_PAGE if swagger else SWAGGER_PAGE
                return self._send(200, [("Content-Type", "text/html; charset=utf-8")], page)
            if path == "/swagger/local-init.js":
                return self._send(200, [("Content-Type", "text/javascript; charset=utf-8")], SWAGGER_INIT)
            if swagger and path.startswith("/swagger/"):
                return self._file(swagger / unquote(path[len("/swagger/") :]), request_id, within=swagger)
            if path == "/openapi.json":
                return self._file(gw.root / "docs" / "openapi.json", request_id)
            if path == "/" or not path.endswith("/"):
                relative = unquote(path).lstrip("/") or "index.html"
                return self._file(gw.page_dir / relative, request_id, within=gw.page_dir)
        return self._own("MISSING_AUTHENTICATION_TOKEN", request_id)

    def _invoke(
        self, route: Route, params: dict[str, str], path: str, query: str, body: bytes, request_id: str
    ) -> int:
        headers = [(k, v) for k, v in self.headers.items() if k.lower() != IAM_HEADER.lower()]
        iam_arn = None
        if route.iam:
            iam_arn = self.headers.get(IAM_HEADER)
            if (not iam_arn or not _IAM_ARN.match(iam_arn)) and is_signed(self.headers):
                url = f"http://{self.headers.get('Host', '')}{path}" + (f"?{query}" if query else "")
                try:
                    iam_arn = verify(
                        self.gateway.signers, method=self.command, url=url, headers=self.headers, body=body
                    )
                except SignatureRefused as exc:
                    log.info("%s %s: SigV4 signature refused: %s", self.command, path, exc)
                    return self._own("INVALID_SIGNATURE", request_id)
            elif not iam_arn or not _IAM_ARN.match(iam_arn):
                log.info("%s %s needs AWS_IAM: locally, send %s: <IAM ARN>", self.command, path, IAM_HEADER)
                return self._own("ACCESS_DENIED", request_id)
        host = self.client_address[0]
        headers += [
            ("X-Forwarded-For", host),
            ("X-Forwarded-Port", str(self.gateway.port)),
            ("X-Forwarded-Proto", "http"),
            ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
        ]
        event = build_event(
            route,
            method=self.command,
            raw_path=path,
            query=query,
            headers=headers,
            body=body,
            path_parameters=params,
            request_id=request_id,
            source_ip=host,
            iam_arn=iam_arn,
        )
        try:
            result = self.gateway.pools[route.function.logical_id].invoke(event, request_id)
            status, response_headers, data = proxy_response(result)
        except (InvokeError, ValueError, TypeError):
            return self._own("DEFAULT_5XX", request_id)
        if not any(name.lower() == "content-type" for name, _ in response_headers):
            response_headers.append(("Content-Type", "application/json"))
        return self._send(status, [*response_headers, ("x-amzn-RequestId", request_id)], data)

    def _dev_token(self, query: str, body: bytes, request_id: str) -> int:
        gw = self.gateway
        assert gw.issuer is not None
        params: dict[str, Any] = dict(parse_qsl(query))
        try:
            sent = json.loads(body) if body.strip() else {}
        except ValueError:
            sent = None
        if not isinstance(sent, dict):
            return self._error(400, "bad_request", "The body must be a JSON object.", request_id)
        params.update(sent)
        account = str(params.get("account", "admin"))
        account_id = {"admin": "sim-admin-0001", "user": "sim-user-0002"}.get(account, account)
        name = str(params.get("installation", "acme"))
        try:
            ttl = int(params.get("ttlSeconds", 25))
        except (TypeError, ValueError):
            ttl = None
        if not _INSTALLATION_NAME.match(name) or ttl is None or abs(ttl) > 86400 or not account_id:
            message = (
                "Use account (admin, user or an accountId), installation (letters, digits, - or _) "
                "and ttlSeconds (a whole number)."
            )
            return self._error(400, "bad_request", message, request_id)
        tenant = installation(name)
        api_base_url = f"{gw.atlassian_url}/ex/jira/{tenant['cloudId']}"
        token = gw.issuer.mint(
            installation_id=tenant["installationId"],
            account_id=account_id,
            cloud_id=tenant["cloudId"],
            site_url=gw.site_url,
            api_base_url=api_base_url,
            ttl_seconds=ttl,
        )
        system_token = f"sim-system-token-{name}"
        return self._json(
            200,
            {
                "token": token,
                "systemToken": system_token,
                "installationId": tenant["installationId"],
                "cloudId": tenant["cloudId"],
                "siteUrl": gw.site_url,
                "apiBaseUrl": api_base_url,
                "accountId": account_id,
                "expiresIn": ttl,
                "headers": {"Authorization": f"Bearer {token}", "x-forge-oauth-system": system_token},
            },
        )

    def _file(self, file: Path, request_id: str, within: Path | None = None) -> int:
        try:
            file = file.resolve()
            outside = within is not None and not file.is_relative_to(within.resolve())
            found = not outside and file.is_file()
        except (OSError, ValueError):  # a name too long for the file system: no such file
            found = False
        if not found:
            return self._own("MISSING_AUTHENTICATION_TOKEN", request_id)
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/json", "application/javascript"):
            kind += "; charset=utf-8"
        return self._send(200, [("Content-Type", kind)], file.read_bytes())

    def _json(self, status: int, payload: Any) -> int:
        data = json.dumps(payload).encode()
        return self._send(status, [("Content-Type", "application/json; charset=utf-8")], data)

    def _own(self, kind: str, request_id: str) -> int:
        return self._send(*self.gateway.own_answer(kind, request_id))

    def _error(self, status: int, code: str, message: str, request_id: str) -> int:
        headers = [("Content-Type", "application/json; charset=utf-8"), ("x-amzn-RequestId", request_id)]
        return self._send(status, headers, error_body(code, message, request_id))

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes) -> int:
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        return status
