"""An Atlassian simulator: the API gateway (Admin API, /ex/jira) and one Jira site, on loopback.

Its credentials are fixed test values (listed in CREDENTIALS_HELP and docs/LOCAL_STACK.md). It never
logs a credential. It redirects only for a key or token a test added with behaviour REDIRECT.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

ORG_ID = "sim-org-acme"
ORG_NAME = "Acme (simulated)"
ADMIN_ACCOUNT = "sim-admin-0001"
USER_ACCOUNT = "sim-user-0002"
SYSTEM_TOKEN_PREFIX = "sim-system-token"
DISPLAY_NAMES = {ADMIN_ACCOUNT: "Sam Admin (simulated)", USER_ACCOUNT: "Uma User (simulated)"}
RETRY_AFTER_SECONDS = "7"

# Behaviours a key or token can carry besides answering normally.
OK, ERROR, RATE_LIMITED, SLOW, REDIRECT = "ok", "error", "rate_limited", "slow", "redirect"
# Answers normally, but after the headers the body comes a byte at a time (`trickle_seconds` apart):
# no single read waits long, the whole answer takes minutes.
TRICKLE = "trickle"
# Where REDIRECT credentials are sent: the instance metadata service, as an attacker would choose.
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@dataclass(frozen=True)
class SimKey:
    org_id: str | None  # None: the key belongs to no organization
    org_name: str | None
    scoped: bool = False
    behaviour: str = OK
    tokens_behaviour: str = OK  # how GET .../api-tokens alone behaves (the key is otherwise fine)


@dataclass(frozen=True)
class SimToken:
    account_id: str
    display_name: str
    email_address: str  # what /myself reports, which may differ from the login email
    active: bool = True
    scoped: bool = False  # scoped tokens work only through the API gateway
    behaviour: str = OK


def _default_keys() -> dict[str, SimKey]:
    return {
        "sim-admin-key-unscoped-GOOD1": SimKey(ORG_ID, ORG_NAME),
        "sim-admin-key-scoped-SCOP1": SimKey(ORG_ID, ORG_NAME, scoped=True),
        "sim-admin-key-no-org-NORG1": SimKey(None, None),
        "sim-admin-key-error-ERR5": SimKey(ORG_ID, ORG_NAME, behaviour=ERROR),
        "sim-admin-key-ratelimited-R429": SimKey(ORG_ID, ORG_NAME, behaviour=RATE_LIMITED),
        "sim-admin-key-slow-SLOW": SimKey(ORG_ID, ORG_NAME, behaviour=SLOW),
        "sim-admin-key-trickle-DRIP": SimKey(ORG_ID, ORG_NAME, behaviour=TRICKLE),
        "sim-admin-key-tokens-error-TER5": SimKey(ORG_ID, ORG_NAME, tokens_behaviour=ERROR),
    }


def _default_tokens() -> dict[tuple[str, str], SimToken]:
    ada = "ada@acme.test"
    expiring = {
        (email, token): SimToken(account, name, email)
        for account, name, email, token in (
            ("sim-account-eve", "Eve Expiring", "eve@acme.test", "sim-token-expiry-one-EXP1"),
            ("sim-account-max", "Max Many", "max@acme.test", "sim-token-expiry-used-EXP2"),
            ("sim-account-tia", "Tia Tied", "tia@acme.test", "sim-token-expiry-tied-EXP3"),
            ("sim-account-gus", "Gus Guest", "gus@partner.test", "sim-token-unmanaged-EXP4"),
        )
    }
    return {
        **expiring,
        (ada, "sim-token-classic-GOOD2"): SimToken("sim-account-ada", "Ada Admin", ada),
        (ada, "sim-token-scoped-SCP2"): SimToken("sim-account-ada", "Ada Admin", ada, scoped=True),
        ("ina@acme.test", "sim-token-inactive-INA2"): SimToken(
            "sim-account-ina", "Ina Inactive", "ina@acme.test", active=False
        ),
        ("alias@acme.test", "sim-token-alias-ALS2"): SimToken("sim-account-ada", "Ada Admin", ada),
        (ada, "sim-token-error-ERR5"): SimToken("sim-account-ada", "Ada Admin", ada, behaviour=ERROR),
        (ada, "sim-token-ratelimited-R429"): SimToken(
            "sim-account-ada", "Ada Admin", ada, behaviour=RATE_LIMITED
        ),
        (ada, "sim-token-slow-SLOW"): SimToken("sim-account-ada", "Ada Admin", ada, behaviour=SLOW),
        (ada, "sim-token-trickle-DRIP"): SimToken("sim-account-ada", "Ada Admin", ada, behaviour=TRICKLE),
    }


@dataclass(frozen=True)
class SimListedToken:
    """One user API token as the organization's api-tokens listing shows it; times relative to now."""

    id: str
    label: str
    account_id: str
    name: str
    email: str
    created_days_ago: int
    expires_in_days: float  # negative: expired
    last_active_hours_ago: float | None  # None: never used


def _default_listed_tokens() -> list[SimListedToken]:
    eve = ("sim-account-eve", "Eve Expiring", "eve@acme.test")
    max_ = ("sim-account-max", "Max Many", "max@acme.test")
    tia = ("sim-account-tia", "Tia Tied", "tia@acme.test")
    # Other managed accounts' tokens, so that the listing takes more than one page at the default limit.
    others = [
        SimListedToken(
            f"tok-staff-{i:02}",
            f"staff script {i}",
            f"sim-account-staff-{i:02}",
            f"Staff {i:02}",
            f"staff{i:02}@acme.test",
            created_days_ago=100 + i,
            expires_in_days=200 + i,
            last_active_hours_ago=30.0 + i,
        )
        for i in range(1, 23)
    ]
    return [
        SimListedToken("tok-eve-1", "jira sync", *eve, 359, 6.5, 2.0),
        *others[:10],
        # Max: an expired token, two older ones and, on the second page, the one just used.
        SimListedToken("tok-max-old", "retired", *max_, 400, -35, 900.0),
        SimListedToken("tok-max-1", "backup job", *max_, 200, 160, 72.0),
        SimListedToken("tok-max-2", "reporting", *max_, 90, 40, None),
        *others[10:],
        SimListedToken("tok-max-3", "api-info", *max_, 20, 12.5, 0.5),
        # Tia: two tokens, neither used within the last 24 h, so neither is the one in use.
        SimListedToken("tok-tia-1", "ci", *tia, 50, 20, 30.0),
        SimListedToken("tok-tia-2", "laptop", *tia, 40, 25, 30.0),
    ]


API_TOKENS_DEFAULT_LIMIT = 20
API_TOKENS_MAX_LIMIT = 100


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int | None:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    head, _, number = text.partition(":")
    return int(number) if head == "offset" and number.isdigit() else None


_KEY_ROWS = [
    ("sim-admin-key-unscoped-GOOD1", f'valid: org {ORG_ID} "{ORG_NAME}", without scopes', ""),
    ("sim-admin-key-scoped-SCOP1", "same org, with scopes (user read 403)", "api_key_has_scopes"),
    ("sim-admin-key-no-org-NORG1", "no organization", "api_key_no_organization"),
    ("sim-admin-key-error-ERR5", "Atlassian answers 500", "atlassian_error"),
    ("sim-admin-key-ratelimited-R429", "Atlassian answers 429, Retry-After 7", "atlassian_unavailable"),
    ("sim-admin-key-slow-SLOW", "valid, but answers after 10 s", ""),
    ("sim-admin-key-trickle-DRIP", "valid; body trickles in, 1 byte / 2 s", "atlassian_unavailable"),
    ("sim-admin-key-tokens-error-TER5", "valid; its api-tokens listing answers 500", ""),
    ("anything else", "401", "api_key_invalid"),
]
_TOKEN_ROWS = [
    ("ada@acme.test", "sim-token-classic-GOOD2", 'valid: sim-account-ada "Ada Admin"', ""),
    ("ada@acme.test", "sim-token-scoped-SCP2", "with scopes (site 401)", "api_token_has_scopes"),
    ("ina@acme.test", "sim-token-inactive-INA2", "deactivated account", "api_token_account_inactive"),
    ("alias@acme.test", "sim-token-alias-ALS2", "/myself says ada@acme.test", "api_token_email_mismatch"),
    ("ada@acme.test", "sim-token-error-ERR5", "Atlassian answers 500", "atlassian_error"),
    ("ada@acme.test", "sim-token-ratelimited-R429", "429, Retry-After 7", "atlassian_unavailable"),
    ("ada@acme.test", "sim-token-slow-SLOW", "valid, but answers after 10 s", ""),
    ("ada@acme.test", "sim-token-trickle-DRIP", "body trickles in, 1 byte / 2 s", "atlassian_unavailable"),
    ("eve@acme.test", "sim-token-expiry-one-EXP1", "valid; listed: 1 token, expires in 6.5 d", ""),
    ("max@acme.test", "sim-token-expiry-used-EXP2", "valid; listed: 3 live, 1 used 30 min ago", ""),
    ("tia@acme.test", "sim-token-expiry-tied-EXP3", "valid; listed: 2 live, none clearly in use", ""),
    ("gus@partner.test", "sim-token-unmanaged-EXP4", "valid; unmanaged account, not listed", ""),
    ("anything else", "", "401", "api_token_invalid"),
]
CREDENTIALS_HELP = "\n".join(
    [
        'Org Admin API keys (PUT /api-info/key {"apiKey": ...}):',
        *(f"  {k:32}{what:40}{'-> ' + code if code else ''}".rstrip() for k, what, code in _KEY_ROWS),
        'User API tokens (PUT /api-info/token {"email": ..., "apiToken": ...}):',
        *(
            f"  {e:17}{t:28}{what:31}{'-> ' + code if code else ''}".rstrip()
            for e, t, what, code in _TOKEN_ROWS
        ),
        "Token expiry (GET /admin/api-access/v1/orgs/{orgId}/api-tokens, Bearer key): GOOD1 lists the",
        "  EXP1-EXP3 accounts' tokens; SCOP1 gets 403, TER5 500; the other tokens' accounts are not listed.",
        f"Jira accounts (the token's principal): {ADMIN_ACCOUNT} is a Jira administrator;",
        f"  {USER_ACCOUNT} (or any other accountId) is not.",
    ]
)

_ORG_USERS = re.compile(r"^/admin/v1/orgs/([^/]+)/users$")
_ORG_API_TOKENS = re.compile(r"^/admin/api-access/v1/orgs/([^/]+)/api-tokens$")
_GATEWAY_MYSELF = re.compile(r"^/ex/jira/([^/]+)/rest/api/3/myself$")
_GATEWAY_USER = re.compile(r"^/ex/jira/([^/]+)/rest/api/3/user$")
_GATEWAY_PERMISSIONS = re.compile(r"^/ex/jira/([^/]+)/rest/api/3/permissions/check$")


class AtlassianSimulator:
    """Serves the simulated Atlassian on http://host:port in a daemon thread."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_ms: int = 0) -> None:
        self.host = host
        self.port = port
        self.latency_ms = latency_ms  # added to every answer; may be changed while running
        self.slow_seconds: float = 10.0  # how long the *-slow-SLOW credentials take
        self.trickle_seconds: float = 2.0  # between two bytes of the *-trickle-DRIP credentials' answers
        self.redirect_to = METADATA_URL  # the Location of REDIRECT credentials' answers
        self.requests: list[tuple[str, str]] = []  # (method, path without query) of each request
        self.in_flight = 0  # requests being answered right now
        self.max_in_flight = 0  # the most answered at once since the last reset
        self.keys = _default_keys()
        self.tokens = _default_tokens()
        # The organization's user API tokens, as GET /admin/api-access/v1/orgs/{orgId}/api-tokens lists them.
        self.listed_tokens = _default_listed_tokens()
        self.admins = {ADMIN_ACCOUNT}
        # Jira's display names of its accounts (GET /rest/api/3/user), and how that call behaves.
        self.names = dict(DISPLAY_NAMES)
        self.user_lookup = OK
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> str:
        """Start serving; returns the base URL (both the API gateway and the Jira site)."""
        handler = type("Handler", (_Handler,), {"sim": self})
        self._server = _Server((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._stopping.clear()
        self._thread = threading.Thread(target=self._server.serve_forever, name="atlassian-sim", daemon=True)
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._stopping.set()  # cuts short the sleeps of slow answers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def reset(self) -> None:
        """Forget the recorded requests."""
        with self._lock:
            self.requests.clear()
            self.max_in_flight = self.in_flight

    def add_key(
        self, key: str, org_id: str | None, org_name: str | None, scoped: bool = False, behaviour: str = OK
    ) -> None:
        """Accept another Admin API key; org_id None makes a key without organization."""
        self.keys[key] = SimKey(org_id, org_name, scoped, behaviour)

    def add_token(
        self,
        email: str,
        token: str,
        account_id: str,
        display_name: str,
        active: bool = True,
        *,
        email_address: str | None = None,
        scoped: bool = False,
        behaviour: str = OK,
    ) -> None:
        """Accept another email + API token; email_address is what /myself reports (default: email)."""
        self.tokens[(email.lower(), token)] = SimToken(
            account_id, display_name, email_address or email, active, scoped, behaviour
        )

    def remove_key(self, key: str) -> None:
        """Stop accepting an Admin API key, as when an admin revokes it (it then gets 401)."""
        self.keys.pop(key, None)

    def remove_token(self, email: str, token: str) -> None:
        """Stop accepting an API token, as when its owner revokes it (it then gets 401)."""
        self.tokens.pop((email.lower(), token), None)

    def add_admin(self, account_id: str) -> None:
        """Make an account a Jira administrator (global permission ADMINISTER)."""
        self.admins.add(account_id)

    def _record(self, method: str, path: str) -> None:
        with self._lock:
            self.requests.append((method, path))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)


Answer = tuple[int, Any, dict[str, str]]


class _Server(ThreadingHTTPServer):
    # The check worker opens 25 connections at once; with the default backlog of 5, the connections
    # beyond it wait for a SYN retry (1 s), which the tests' 1 s timeout turns into failed checks.
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    sim: AtlassianSimulator
    trickle = False  # set per request by a TRICKLE credential
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body would wait for the
    # client's delayed ACK (about 40 ms on Linux loopback), which a real server does not add.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds no credential (they travel in headers); keep it out of the terminal anyway.
        log.debug("atlassian-sim: " + format, *args)

    def _serve(self) -> None:
        path, self.query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
        self.sim._record(self.command, path)
        self.trickle = False
        try:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            status, payload, headers = self._route(self.command, path, body)
        except Exception:
            log.exception("atlassian-sim: internal error on %s %s", self.command, path)
            status, payload, headers = 500, {"message": "simulator error"}, {}
        finally:
            self.sim._pause(self.sim.latency_ms / 1000)
            # Counted out before the answer leaves, so a caller's next request never overlaps this one.
            self.sim._done()
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.trickle:
                for i in range(len(data)):
                    self.sim._pause(self.sim.trickle_seconds)
                    self.wfile.write(data[i : i + 1])
            else:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The caller gave up first, as the service does with the slow credentials: nothing to answer.
            self.close_connection = True

    def _route(self, method: str, path: str, body: bytes) -> Answer:
        if method == "GET" and path == "/admin/v1/orgs":
            return self._orgs()
        if method == "GET" and (m := _ORG_USERS.match(path)):
            return self._org_users(unquote(m.group(1)))
        if method == "GET" and (m := _ORG_API_TOKENS.match(path)):
            return self._api_tokens(unquote(m.group(1)))
        if method == "GET" and path == "/rest/api/3/myself":
            return self._myself(via_gateway=False)
        if method == "GET" and _GATEWAY_MYSELF.match(path):
            return self._myself(via_gateway=True)
        if method == "POST" and _GATEWAY_PERMISSIONS.match(path):
            return self._permissions(body)
        if method == "GET" and _GATEWAY_USER.match(path):
            return self._user()
        return 404, {"code": 404, "message": "Not Found"}, {}

    # --- Admin API ------------------------------------------------------------------------------

    def _key(self) -> SimKey | None:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        return self.sim.keys.get(value.strip()) if scheme.lower() == "bearer" else None

    def _orgs(self) -> Answer:
        key = self._key()
        if key is None:
            return 401, {"code": 401, "message": "Unauthorized"}, {}
        if (trouble := self._behave(key.behaviour)) is not None:
            return trouble
        data = []
        if key.org_id is not None:
            data = [{"id": key.org_id, "type": "orgs", "attributes": {"name": key.org_name}}]
        return 200, {"data": data, "links": {}}, {}

    def _org_users(self, org_id: str) -> Answer:
        key = self._key()
        if key is None:
            return 401, {"code": 401, "message": "Unauthorized"}, {}
        if (trouble := self._behave(key.behaviour)) is not None:
            return trouble
        if key.org_id != org_id:
            return 404, {"code": 404, "message": "Organization not found"}, {}
        if key.scoped:
            # User management has no scopes, so a key created with scopes may not read it.
            return 403, {"code": 403, "message": "Forbidden: the key lacks the required scopes"}, {}
        user = {
            "account_id": ADMIN_ACCOUNT,
            "account_type": "atlassian",
            "account_status": "active",
            "name": "Ada Admin",
            "email": "ada@acme.test",
        }
        return 200, {"data": [user], "links": {}}, {}

    def _api_tokens(self, org_id: str) -> Answer:
        key = self._key()
        if key is None:
            return 401, {"code": 401, "message": "Unauthorized"}, {}
        for behaviour in (key.behaviour, key.tokens_behaviour):
            if (trouble := self._behave(behaviour)) is not None:
                return trouble
        if key.org_id != org_id:
            return 404, {"code": 404, "message": "Organization not found"}, {}
        if key.scoped:
            return 403, {"code": 403, "message": "Forbidden: the key lacks the required scopes"}, {}
        raw_limit = (self.query.get("limit") or [str(API_TOKENS_DEFAULT_LIMIT)])[0]
        cursors = self.query.get("cursor")
        offset = 0 if not cursors else _offset(cursors[0])
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= API_TOKENS_MAX_LIMIT or offset is None:
            return 400, {"code": 400, "message": "Invalid limit or cursor"}, {}
        limit = int(raw_limit)
        now = datetime.now(UTC)
        wanted_q = (self.query.get("q") or [""])[0].lower()
        wanted_status = (self.query.get("status") or [""])[0].upper()
        rows = []
        for t in self.sim.listed_tokens:
            expires = now + timedelta(days=t.expires_in_days)
            status = "ALLOWED" if expires > now else "EXPIRED"
            if wanted_q and not any(wanted_q in v.lower() for v in (t.label, t.name, t.email)):
                continue
            if wanted_status and status != wanted_status:
                continue
            last = None if t.last_active_hours_ago is None else now - timedelta(hours=t.last_active_hours_ago)
            rows.append(
                {
                    "id": t.id,
                    "label": t.label,
                    "status": status,
                    "createdAt": _iso(now - timedelta(days=t.created_days_ago)),
                    "expiresAt": _iso(expires),
                    "lastActiveAt": None if last is None else _iso(last),
                    "user": {"id": t.account_id, "orgId": org_id, "name": t.name, "email": t.email},
                }
            )
        page = rows[offset : offset + limit]
        links: dict[str, str | None] = {"self": _cursor(offset), "next": None, "prev": None}
        if offset + limit < len(rows):
            links["next"] = _cursor(offset + limit)
        if offset > 0:
            links["prev"] = _cursor(max(0, offset - limit))
        return 200, {"data": page, "links": links}, {}

    # --- Jira -----------------------------------------------------------------------------------

    def _token(self) -> SimToken | None:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            email, _, token = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.sim.tokens.get((email.lower(), token))

    def _myself(self, *, via_gateway: bool) -> Answer:
        token = self._token()
        if token is None or (token.scoped and not via_gateway):
            if via_gateway:
                return 401, {"code": 401, "message": "Unauthorized"}, {}
            refused = {"errorMessages": ["You are not authenticated."], "errors": {}}
            return 401, refused, {"x-seraph-loginreason": "AUTHENTICATED_FAILED"}
        if (trouble := self._behave(token.behaviour)) is not None:
            return trouble
        me = {
            "accountId": token.account_id,
            "accountType": "atlassian",
            "displayName": token.display_name,
            "emailAddress": token.email_address,
            "active": token.active,
        }
        return 200, me, {}

    def _permissions(self, body: bytes) -> Answer:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip().startswith(SYSTEM_TOKEN_PREFIX):
            return 401, {"code": 401, "message": "Unauthorized"}, {}
        try:
            asked = json.loads(body)
            account_id = asked["accountId"]
            wanted = list(asked.get("globalPermissions") or [])
        except (ValueError, KeyError, TypeError):
            return 400, {"errorMessages": ["Invalid request payload."], "errors": {}}, {}
        granted = [p for p in wanted if p == "ADMINISTER" and account_id in self.sim.admins]
        return 200, {"globalPermissions": granted}, {}

    def _user(self) -> Answer:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not value.strip().startswith(SYSTEM_TOKEN_PREFIX):
            return 401, {"code": 401, "message": "Unauthorized"}, {}
        if (trouble := self._behave(self.sim.user_lookup)) is not None:
            return trouble
        account_id = (self.query.get("accountId") or [""])[0]
        name = self.sim.names.get(account_id)
        if name is None:
            return (
                404,
                {"errorMessages": ["Specified user does not exist or you do not have required permissions"]},
                {},
            )
        return (
            200,
            {"accountId": account_id, "accountType": "atlassian", "displayName": name, "active": True},
            {},
        )

    def _behave(self, behaviour: str) -> Answer | None:
        if behaviour == ERROR:
            return 500, {"code": 500, "message": "Internal Server Error"}, {}
        if behaviour == RATE_LIMITED:
            return 429, {"code": 429, "message": "Too Many Requests"}, {"Retry-After": RETRY_AFTER_SECONDS}
        if behaviour == SLOW:
            self.sim._pause(self.sim.slow_seconds)
        if behaviour == REDIRECT:
            return 302, {"message": "Found"}, {"Location": self.sim.redirect_to}
        if behaviour == TRICKLE:
            self.trickle = True  # _serve sends the answer's body slowly
        return None
