"""A small local API Gateway: the HTTP server of the local stack.

It routes template.yaml's Api events to each function's pool of worker processes ("containers", one
request per container at a time, as Lambda does; local.pool), turning requests into REST API proxy
events (payload 1.0) and answers back (local.apigw). Besides the routes it serves the settings page,
/swagger, /openapi.json and the development token endpoints.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import mimetypes
import re
import time
import uuid
from collections.abc import Mapping
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from aws_lambda_powertools.event_handler.openapi import swagger_ui

from local.apigw import (
    IAM_ARN,
    HttpRequest,
    Route,
    build_event,
    build_routes,
    error_body,
    find_route,
    own_answer,
    proxy_response,
)
from local.atlassian_sim import ADMIN_ACCOUNT, SYSTEM_TOKEN_PREFIX, USER_ACCOUNT
from local.cfn import functions, gateway_responses, load_template
from local.dev_issuer import DevTokenIssuer, installation
from local.pool import FunctionPool, InvokeError, container_env
from local.serving import BackgroundServer, OneEntryHandler
from local.sigv4 import SignatureRefused, Signer, is_signed, verify

log = logging.getLogger(__name__)

IAM_HEADER = "X-Local-Iam-User-Arn"
MAX_BODY_BYTES = 10 * 1024 * 1024  # API Gateway's payload limit
PAGE_DIR = Path(__file__).resolve().parent / "page"
_INSTALLATION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# C0 and C1 control characters and DEL: no route has them, so a path holding one is an unknown route.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# What to percent-encode in a raw request target: the bytes http.server would take for whitespace
# (it splits the request line on any of them) besides the control characters.
_RAW_UNSAFE = re.compile(rb"[\x00-\x20\x7f-\xa0]")

# /swagger: this folder's page and init script, around the Swagger UI files Powertools ships for its own
# event handler's Swagger UI (so it works offline, with no package of its own).
SWAGGER_DIR = Path(__file__).resolve().parent / "swagger"
_POWERTOOLS_SWAGGER = Path(swagger_ui.__file__).resolve().parent
SWAGGER_FILES = {
    "/swagger": SWAGGER_DIR / "index.html",
    "/swagger/local-init.js": SWAGGER_DIR / "local-init.js",
    "/swagger/swagger-ui-bundle.js": _POWERTOOLS_SWAGGER / "swagger-ui-bundle.min.js",
    "/swagger/swagger-ui.css": _POWERTOOLS_SWAGGER / "swagger-ui.min.css",
}


_DIGITS = re.compile(r"[0-9]{1,18}")


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:  # a name
        return False


def _content_lengths(headers: list[str]) -> set[str]:
    """The distinct values of a request's Content-Length headers (a header may list several)."""
    return {value.strip() for header in headers for value in header.split(",")}


# --- the HTTP server ----------------------------------------------------------------------------


class LocalGateway(BackgroundServer):
    """Serves template.yaml's Api routes on http://host:port, plus the page, docs and dev token endpoints.

    function_env: environment per function logical id (e.g. from local.resources); env: settings that
    override it for every function. issuer: the development token issuer, or None when FORGE_JWKS_URL is
    the user's own. atlassian_url / site_url: what /dev/token puts into tokens (site defaults to the API URL).
    signers: access keys whose SigV4 signature an AWS_IAM route accepts (local.sigv4), by access key id.
    """

    # A burst of connections overflowed a smaller backlog while the gateway was busy, and the kernel
    # reset some of them; API Gateway answers every one.
    backlog = 1024

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
        super().__init__(host, port, "gateway")
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
                container_env(spec, {**(function_env or {}).get(spec.logical_id, {}), **(env or {})}),
                self.root,
                max_containers,
                layers,
            )
            for spec in specs
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        # Containers start on first use, not here.
        return type("Handler", (_GatewayHandler,), {"gateway": self})

    def stop(self) -> None:
        super().stop()
        for pool in self.pools.values():
            pool.close()

    def served_hosts(self) -> set[str]:
        """The Host headers it answers: the loopback names (and the address it was bound to), with its
        port; without one only on port 80."""
        names = {"127.0.0.1", "localhost", "[::1]"}
        if self.host and not _unspecified(self.host):  # bound to every address: none of them is its own
            names.add(f"[{self.host}]" if ":" in self.host else self.host.lower())
        hosts = {f"{name}:{self.port}" for name in names}
        return hosts | names if self.port == 80 else hosts

    def own_answer(self, kind: str, request_id: str) -> tuple[int, list[tuple[str, str]], bytes]:
        return own_answer(self.responses, kind, request_id)

    def find_route(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        return find_route(self.routes, method, raw_path)


class _GatewayHandler(OneEntryHandler):
    gateway: LocalGateway
    protocol_version = "HTTP/1.1"  # keep-alive, as clients of API Gateway expect

    def __getattr__(self, name: str) -> Any:
        # Every other method (PATCH, OPTIONS, HEAD, and TRACE, QUERY, ... which no route has) goes to
        # the router too: the template's unknown-route answer, as API Gateway gives, not http.server's 501.
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
        refused = self._refusal()
        length = self._content_length()
        if refused is not None:
            # Its body, if any, is left unread: the connection closes rather than read it as a request.
            status = self._error(400, "bad_request", refused, request_id)
            self.close_connection = True
        elif length < 0 or length > MAX_BODY_BYTES:
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

    def _refusal(self) -> str | None:
        """Why the request is refused before anything (section 4 of the contract), or None.

        A Host other than the address served on is a page of another site that a DNS-rebinding attack
        points at 127.0.0.1: refused, so that no web page can drive the local stack. Two different
        Content-Length headers leave the body's end in doubt (request smuggling): refused too.
        """
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or hosts[0].strip().lower() not in self.gateway.served_hosts():
            return f"This server answers only requests for {self.gateway.url}."
        if len(_content_lengths(self.headers.get_all("Content-Length") or [])) > 1:
            return "The request has two different Content-Length headers."
        return None

    def _content_length(self) -> int:
        """The body's length; -1 when it cannot be read (answered as too large, as before)."""
        lengths = _content_lengths(self.headers.get_all("Content-Length") or [])
        if not lengths:
            return 0
        value = lengths.pop()
        return int(value) if len(lengths) == 0 and _DIGITS.fullmatch(value) else -1

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
            if path in SWAGGER_FILES:
                return self._file(SWAGGER_FILES[path], request_id)
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
            if (not iam_arn or not IAM_ARN.match(iam_arn)) and is_signed(self.headers):
                url = f"http://{self.headers.get('Host', '')}{path}" + (f"?{query}" if query else "")
                try:
                    iam_arn = verify(
                        self.gateway.signers, method=self.command, url=url, headers=self.headers, body=body
                    )
                except SignatureRefused as exc:
                    log.info("%s %s: SigV4 signature refused: %s", self.command, path, exc)
                    return self._own("INVALID_SIGNATURE", request_id)
            elif not iam_arn or not IAM_ARN.match(iam_arn):
                log.info("%s %s needs AWS_IAM: locally, send %s: <IAM ARN>", self.command, path, IAM_HEADER)
                return self._own("ACCESS_DENIED", request_id)
        host = self.client_address[0]
        headers += [
            ("X-Forwarded-For", host),
            ("X-Forwarded-Port", str(self.gateway.port)),
            ("X-Forwarded-Proto", "http"),
            ("X-Amzn-Trace-Id", f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"),
        ]
        request = HttpRequest(self.command, path, query, headers, body, source_ip=host)
        event = build_event(route, request, params, request_id, iam_arn)
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
        account_id = {"admin": ADMIN_ACCOUNT, "user": USER_ACCOUNT}.get(account, account)
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
        system_token = f"{SYSTEM_TOKEN_PREFIX}-{name}"
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
