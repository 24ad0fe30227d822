"""Fuzzing of what comes before the routes: any Authorization, any Content-Type, any header, any path.

schemathesis (test_fuzz.py) sends what docs/openapi.json describes, with good credentials. This run sends
what nobody describes, through the whole local stack: tokens of any shape (garbage, JWT-shaped with
random or deeply nested JSON, real tokens cut short), media types in any case or none, bodies of any
bytes, nesting or size, paths with any character. The rule is docs/API.md's for every route (§2): never
a 5xx for bad input; the answer is a 4xx of its error table (§3), or the route's normal answer, and
every error has the service's error body. The run collects every request that breaks the rule and reports
them together.

Budget: FUZZ_EDGE_EXAMPLES (default 300) generated requests from a fixed seed (FUZZ_SEED, default 6),
so that CI runs are repeatable, after the cases the issue found by hand (KNOWN); about a minute on 2
cores.
"""

from __future__ import annotations

import base64
import json
import os
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, Phase, example, given, seed, settings
from hypothesis import strategies as st

from tests.e2e.conftest import REPO, Stack

# The contract's error table: which status each code is answered with.
ERROR_STATUS = {
    "bad_request": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "idempotency_key_reused": 409,
    "change_in_progress": 409,
    "payload_too_large": 413,
    "validation_error": 422,
    "api_key_invalid": 422,
    "api_key_has_scopes": 422,
    "api_key_no_organization": 422,
    "api_token_invalid": 422,
    "api_token_has_scopes": 422,
    "api_token_email_mismatch": 422,
    "api_token_account_inactive": 422,
    "rate_limited": 429,
}
OPERATOR = "arn:aws:iam::123456789012:user/fuzz-edge"
SITES = (
    8  # the fuzz's requests spread over a few sites, so that one site's change limit does not hide the rest
)
EXAMPLES = int(os.environ.get("FUZZ_EDGE_EXAMPLES", "300"))
SEED = int(os.environ.get("FUZZ_SEED", "6"))


def _operations() -> list[tuple[str, str]]:
    document = json.loads((REPO / "docs" / "openapi.json").read_text())
    return sorted((method.upper(), path) for path, item in document["paths"].items() for method in item)


OPERATIONS = _operations()


@dataclass
class Run:
    stack: Stack
    violations: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


# --- what is sent -------------------------------------------------------------------------------

# Header values as bytes an HTTP/1.1 client may send: visible latin-1 characters with inner spaces
# and tabs (h11 refuses CR, LF, NUL and surrounding whitespace, as any server would).
_VISIBLE = st.sampled_from([bytes([b]) for b in [*range(0x21, 0x7F), *range(0x80, 0x100)]])
_INNER = st.one_of(_VISIBLE, st.sampled_from([b" ", b"\t"]))


@st.composite
def header_values(draw: st.DrawFn, max_size: int = 60) -> bytes:
    middle = b"".join(draw(st.lists(_INNER, max_size=max_size)))
    return draw(_VISIBLE) + middle + draw(_VISIBLE) if middle else draw(_VISIBLE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _nested(depth: int, kind: str) -> str:
    return "[" * depth + "]" * depth if kind == "array" else '{"a":' * depth + "1" + "}" * depth


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
json_texts = st.one_of(
    json_values.map(json.dumps),
    st.builds(_nested, st.integers(1, 3000), st.sampled_from(["array", "object"])),
    st.integers(1, 6000).map(lambda digits: "9" * digits),
    st.text(max_size=40),
)
token_parts = st.one_of(
    json_texts.map(lambda text: _b64(text.encode())),
    st.binary(max_size=64).map(_b64),
    st.text(alphabet=string.ascii_letters + string.digits + "-_=+/.", max_size=40),
)


@st.composite
def authorizations(draw: st.DrawFn) -> tuple[bytes | None, int]:
    """An Authorization header ({token} stands for a fresh real token) and where to cut that token."""
    kind = draw(st.sampled_from(["none", "damaged", "jwt-shaped", "jwt-shaped", "scheme", "any"]))
    if kind == "none":
        return None, 0
    if kind == "damaged":
        suffix = draw(st.sampled_from([b"", b"x", b".", b"..", b"%00", b" x"]))
        return b"Bearer {token}" + suffix, draw(st.integers(1, 600))
    if kind == "jwt-shaped":
        parts = draw(st.lists(token_parts, min_size=1, max_size=5))
        scheme = draw(st.sampled_from(["Bearer ", "bearer ", "BEARER ", "", "Basic "]))
        return (scheme + ".".join(parts)).strip().encode() or b"Bearer", 0
    if kind == "scheme":
        return draw(st.sampled_from([b"Bearer", b"Basic YTpi", b"Bearer a b c", b"Bearer {token} x"])), 0
    return draw(header_values(200)), 0


content_types = st.one_of(
    st.none(),
    st.sampled_from(
        [
            b"APPLICATION/JSON",
            b"Application/JSON; charset=UTF-8",
            b"application/json;charset=utf-8",
            b"application/json; charset=latin-1",
            b"application/json ; charset=utf-8",
            b"application/problem+json",
            b"text/plain",
            b"application/x-www-form-urlencoded",
            b"multipart/form-data; boundary=x",
            b"*/*",
            b";",
        ]
    ),
    header_values(),
)


@st.composite
def bodies(draw: st.DrawFn) -> bytes | None:
    kind = draw(st.sampled_from(["none", "object", "json", "nested", "number", "bytes", "large"]))
    if kind == "none":
        return None
    if kind == "object":
        fields = st.sampled_from(["apiKey", "apiToken", "email", "expiresOn", "eventType", "x"])
        return json.dumps(draw(st.dictionaries(fields, json_values, max_size=4))).encode()
    if kind == "json":
        return draw(json_texts).encode()
    if kind == "nested":
        inner = _nested(draw(st.integers(30, 3000)), draw(st.sampled_from(["array", "object"])))
        return ('{"apiKey": ' + inner + "}").encode()
    if kind == "number":
        return ('{"apiKey": "k", "expiresOn": ' + "1" * draw(st.integers(90, 6000)) + "}").encode()
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    return b'{"apiKey": "' + b"k" * draw(st.integers(8_000, 12_000)) + b'"}'


path_texts = st.lists(
    st.characters(codec="utf-8", exclude_categories=["Cs"])
    | st.sampled_from(["/", "%", "..", "\x00", "\t", "%00"]),
    max_size=30,
).map("".join)


@st.composite
def paths(draw: st.DrawFn, route: str) -> str:
    """The route's path ({tenant}: the site's id) with any tenant id or something appended, or any path."""
    kind = draw(st.sampled_from(["tenant", "suffix", "any"]))
    if kind == "tenant" and "{tenantId}" in route:
        return route.replace(
            "{tenantId}", quote(draw(path_texts), safe=draw(st.sampled_from(["", "/", "%:"])))
        )
    path = route.replace("{tenantId}", "{tenant}")
    if kind == "any":
        return "/" + quote(draw(path_texts), safe=draw(st.sampled_from(["", "/", "%", "/%"])))
    return path + quote(draw(path_texts), safe=draw(st.sampled_from(["", "/", "%"])))


extra_headers = st.dictionaries(
    st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=20).filter(
        lambda name: name.lower() not in ("content-length", "transfer-encoding", "host", "connection")
    ),
    header_values(),
    min_size=1,
    max_size=3,
)

# The body each route takes when it is sent as a caller would.
GOOD_BODIES = {
    "/api-info/key": b'{"apiKey": "sim-admin-key-unscoped-GOOD1"}',
    "/api-info/token": b'{"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}',
    "/lifecycle/uninstalled": b'{"eventType": "avi:forge:uninstalled:app"}',
    # the /ops twin of /lifecycle/personal-data (Forge's trigger sends a context the route ignores)
    "/personal-data": b'{"accountId": "sim-admin-0001", "status": "updated"}',
}


@dataclass(frozen=True)
class Case:
    """One request: what a real caller sends for an operation, with some of its parts replaced.

    In `path` and the header values, {tenant} stands for the site's installation id (encoded) and
    {token} / {system} for a fresh token and system token of the site's administrator, minted at send
    time (`cut`: keep only that many characters of the token). `body_replaced` tells whether `body` is
    still the route's own.
    """

    method: str
    path: str
    headers: tuple[tuple[str, bytes], ...]
    body: bytes | None
    cut: int = 0
    body_replaced: bool = False
    site: int = 0


def baseline(method: str, route: str) -> dict[str, Any]:
    headers = {"Authorization": b"Bearer {token}", "x-forge-oauth-system": b"{system}"}
    if route.startswith("/ops/"):
        headers["X-Local-Iam-User-Arn"] = OPERATOR.encode()
    body = (
        GOOD_BODIES.get(route.removeprefix("/ops/tenants/{tenantId}")) if method in ("PUT", "POST") else None
    )
    if body is not None:
        headers["Content-Type"] = b"application/json"
    return {
        "method": method,
        "path": route.replace("{tenantId}", "{tenant}"),
        "headers": headers,
        "body": body,
    }


PARTS = [
    "authorization",
    "system",
    "operator",
    "content-type",
    "body",
    "path",
    "method",
    "headers",
    "idempotency",
]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A caller's request for an operation, with one to three of its parts replaced by anything."""
    method, route = draw(st.sampled_from(OPERATIONS))
    case = baseline(method, route)
    headers: dict[str, bytes] = case["headers"]
    cut = 0
    for part in sorted(draw(st.sets(st.sampled_from(PARTS), min_size=1, max_size=3))):
        if part == "authorization":
            value, cut = draw(authorizations())
            headers.pop("Authorization")
            if value is not None:
                headers["Authorization"] = value
        elif part == "system":
            system = draw(st.sampled_from([None, b"sim-system-token-x", b"x"]) | header_values())
            headers.pop("x-forge-oauth-system")
            if system is not None:
                headers["x-forge-oauth-system"] = system
        elif part == "operator":
            headers["X-Local-Iam-User-Arn"] = draw(
                st.sampled_from([b"alice", b"arn:aws:iam::1:user/x"]) | header_values()
            )
        elif part == "content-type":
            content_type = draw(content_types)
            headers.pop("Content-Type", None)
            if content_type is not None:
                headers["Content-Type"] = content_type
        elif part == "body":
            case["body"] = draw(bodies())
        elif part == "path":
            case["path"] = draw(paths(route))
        elif part == "method":
            case["method"] = draw(
                st.sampled_from(["GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD"])
            )
        elif part == "headers":
            headers.update(draw(extra_headers))
        else:
            headers["Idempotency-Key"] = draw(header_values(140))
    return Case(
        method=case["method"],
        path=case["path"],
        headers=tuple(headers.items()),
        body=case["body"],
        cut=cut,
        body_replaced=case["body"] != baseline(method, route)["body"],
        site=draw(st.integers(0, SITES - 1)),
    )


def known(method: str, route: str, *, body: bytes | None = None, **headers: bytes) -> Case:
    """A case the issue found by hand: the route's baseline request with these parts replaced."""
    case = baseline(method, route)
    return Case(
        method=method,
        path=case["path"],
        headers=tuple({**case["headers"], **{k.replace("_", "-"): v for k, v in headers.items()}}.items()),
        body=case["body"] if body is None else body,
        body_replaced=body is not None,
    )


NESTED_HEADER = ("Bearer " + _b64(_nested(2000, "array").encode()) + "." + _b64(b"{}") + ".c2ln").encode()
KNOWN = [
    known("GET", "/api-info", Authorization=NESTED_HEADER),
    known("PUT", "/api-info/key", body=('{"apiKey": ' + _nested(1000, "array") + "}").encode()),
    known("PUT", "/api-info/key", body=b'{"apiKey": "k", "expiresOn": ' + b"5" * 5000 + b"}"),
    known("PUT", "/api-info/key", Content_Type=b"APPLICATION/JSON"),
    known("PUT", "/api-info/token", Content_Type=b"Application/JSON; charset=UTF-8"),
]


# --- the rule -----------------------------------------------------------------------------------


def breach(case: Case, answer: httpx.Response) -> str | None:
    """What in this answer breaks docs/API.md's rule for every route, or None."""
    if answer.status_code >= 500:
        return "a 5xx for bad input"
    if answer.status_code in (200, 202, 204):
        return None
    if case.method == "HEAD":
        return None if answer.status_code in ERROR_STATUS.values() else "a status off the error table"
    try:
        error = answer.json()["error"]
        code, message, request_id = error["code"], error["message"], error["requestId"]
    except (ValueError, KeyError, TypeError):
        return "an error answer not in the contract's shape"
    if ERROR_STATUS.get(code) != answer.status_code:
        return f"{answer.status_code} {code!r} is not a row of the contract's error table"
    if not (isinstance(message, str) and message and isinstance(request_id, str) and request_id):
        return "an error without a message or a requestId"
    if not answer.headers.get("content-type", "").lower().startswith("application/json"):
        return "an error answer that is not JSON"
    media_type = dict(case.headers).get("Content-Type", b"").split(b";")[0].strip().lower()
    if code == "bad_request" and not case.body_replaced and case.body and media_type == b"application/json":
        return "the route's own body refused for the case or parameters of its media type"
    return None


def send(stack: Stack, case: Case) -> tuple[httpx.Request, httpx.Response | str]:
    """The case as a request with fresh credentials of its site, and the answer (or why there is none)."""
    fresh = stack.http.post(
        "/dev/token", params={"installation": f"fuzz-edge-{case.site}", "ttlSeconds": 120}
    )
    minted = fresh.json()
    token = minted["token"][: case.cut] if case.cut else minted["token"]
    names = {b"{token}": token.encode(), b"{system}": minted["systemToken"].encode()}
    headers = {}
    for name, value in case.headers:
        for placeholder, real in names.items():
            value = value.replace(placeholder, real)
        headers[name] = value
    path = case.path.replace("{tenant}", quote(minted["installationId"], safe=""))
    request = stack.http.build_request(case.method, stack.url + path, headers=headers, content=case.body)
    try:
        return request, stack.http.send(request)
    except httpx.HTTPError as exc:
        return request, f"no answer: {exc!r}"


def describe(request: httpx.Request, answer: str) -> str:
    body = request.content
    shown = body[:200] + (b"... (%d bytes)" % len(body) if len(body) > 200 else b"")
    headers = {k: (v[:100] + "..." if len(v) > 100 else v) for k, v in request.headers.items()}
    target = request.url.raw_path.decode()[:300]
    return f"- {request.method} {target} headers={headers} body={shown!r}\n  -> {answer}"


def fuzz(run: Run) -> Callable[[], None]:
    stack = run.stack
    for site in range(SITES):  # the service knows a site once it has seen one of its tokens: /ops finds it
        stack.http.get(
            "/api-info", headers=stack.headers(installation=f"fuzz-edge-{site}")
        ).raise_for_status()

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        # no shrinking against a live server: the report shows every offending request whole
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases())
    def one_request(case: Case) -> None:
        request, answer = send(stack, case)
        if isinstance(answer, str):
            run.violations.append(describe(request, answer))
            return
        run.statuses[answer.status_code] = run.statuses.get(answer.status_code, 0) + 1
        reason = breach(case, answer)
        if reason is not None:
            run.violations.append(describe(request, f"{reason}: {answer.status_code} {answer.text[:300]}"))

    for case in KNOWN:
        one_request = example(case=case)(one_request)
    return one_request


def test_fuzzing_tokens_media_types_headers_and_paths_finds_no_5xx_and_no_answer_off_the_table(
    stack: Stack,
) -> None:
    run = Run(stack)
    fuzz(run)()

    print("fuzz-edge statuses:", dict(sorted(run.statuses.items())))
    report = "\n".join(run.violations)
    assert not run.violations, f"{len(run.violations)} answers break docs/API.md's rule:\n{report}"
