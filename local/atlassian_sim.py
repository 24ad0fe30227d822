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
from http.server import BaseHTTPRequestHandler
from typing import Any, Unpack
from urllib.parse import parse_qs, unquote, urlsplit

from local.serving import BackgroundServer, OneEntryHandler
from local.sim_api_tokens import api_tokens_page, default_listed_tokens
from local.sim_credentials import (  # noqa: F401 - the simulator's names, as callers import them
    ADMIN_ACCOUNT,
    CREDENTIALS_HELP,
    DISPLAY_NAMES,
    ERROR,
    METADATA_URL,
    OK,
    ORG_ID,
    ORG_NAME,
    RATE_LIMITED,
    REDIRECT,
    RETRY_AFTER_SECONDS,
    SLOW,
    SYSTEM_TOKEN_PREFIX,
    TRICKLE,
    UNREADABLE,
    USER_ACCOUNT,
    KeyOptions,
    SimKey,
    SimToken,
    default_keys,
    default_tokens,
)
from local.sim_orgs import SimOrgs
from local.sim_privacy import REPORT_PATH, SimPrivacy

log = logging.getLogger(__name__)

_ORG_USERS = re.compile(r"^/admin/v1/orgs/([^/]+)/users$")
_ORG_API_TOKENS = re.compile(r"^/admin/api-access/v1/orgs/([^/]+)/api-tokens$")
_ORG_API_KEYS = re.compile(r"^/admin/api-access/v1/orgs/([^/]+)/api-keys$")
_ORG_WORKSPACES = re.compile(r"^/admin/v2/orgs/([^/]+)/workspaces$")
_GATEWAY_MYSELF = re.compile(r"^/ex/jira/([^/]+)/rest/api/3/myself$")
_GATEWAY_USER = re.compile(r"^/ex/jira/([^/]+)/rest/api/3/user$")
_GATEWAY_PERMISSIONS = re.compile(r"^/ex/jira/([^/]+)/rest/api/3/permissions/check$")
# What the user-management probe reads: one user of the organization.
_ORG_USER = {
    "account_id": ADMIN_ACCOUNT,
    "account_type": "atlassian",
    "account_status": "active",
    "name": "Ada Admin",
    "email": "ada@acme.test",
}


class AtlassianSimulator(BackgroundServer):
    """Serves the simulated Atlassian on http://host:port in a daemon thread."""

    # The check worker opens 25 connections at once; beyond the backlog they would wait for a SYN
    # retry (1 s), which the tests' 1 s timeout turns into failed checks.
    backlog = 128

    def __init__(self, host: str = "127.0.0.1", port: int = 0, latency_ms: int = 0) -> None:
        super().__init__(host, port, "atlassian-sim")
        self.latency_ms = latency_ms  # added to every answer; may be changed while running
        self.slow_seconds: float = 10.0  # how long the *-slow-SLOW credentials take
        self.trickle_seconds: float = 2.0  # between two bytes of the *-trickle-DRIP credentials' answers
        self.redirect_to = METADATA_URL  # the Location of REDIRECT credentials' answers
        self.requests: list[tuple[str, str]] = []  # (method, path without query) of each request
        self.in_flight = 0  # requests being answered right now
        self.max_in_flight = 0  # the most answered at once since the last reset
        self.keys = default_keys()
        self.tokens = default_tokens()
        # The organization's user API tokens, as GET /admin/api-access/v1/orgs/{orgId}/api-tokens lists them.
        self.listed_tokens = default_listed_tokens()
        # When set, the listing's `links.next` is an absolute URL on this origin instead of a cursor.
        self.api_tokens_next_origin: str | None = None
        # The organizations' sites and api-keys listings (local/sim_orgs.py): what tests set, reset() undoes.
        self.orgs = SimOrgs()
        self.admins = {ADMIN_ACCOUNT}
        # Jira's display names of its accounts (GET /rest/api/3/user), and how that call behaves.
        self.names = dict(DISPLAY_NAMES)
        self.user_lookup = OK
        # The Personal data reporting API: what it answers (closed / updated accounts) and received.
        self.privacy = SimPrivacy()
        # Answers forced on a call, whatever its credentials (hostile-answer tests): see `force`.
        self.forced: list[tuple[str, re.Pattern[str], Answer]] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return type("Handler", (_Handler,), {"sim": self})

    def start(self) -> str:
        """Start serving; returns the base URL (both the API gateway and the Jira site)."""
        self._stopping.clear()
        return super().start()

    def stop(self) -> None:
        self._stopping.set()  # cuts short the sleeps of slow answers
        super().stop()

    def reset(self) -> None:
        """Forget the recorded requests; the reporting API and the organizations' sites and listed keys
        back to their defaults (the keys and tokens added stay)."""
        with self._lock:
            self.requests.clear()
            self.privacy = SimPrivacy()
            self.max_in_flight = self.in_flight
            self.forced = []
            self.orgs = SimOrgs()

    def force(
        self, method: str, path: str, status: int, payload: Any, headers: dict[str, str] | None = None
    ) -> None:
        """Answer every `method` request whose path matches the regular expression `path` with `status`,
        `payload` (JSON, or bytes sent as they are) and `headers`, until the next reset."""
        with self._lock:
            self.forced.append((method, re.compile(path), (status, payload, headers or {})))

    def add_key(
        self,
        key: str,
        org_id: str | None,
        org_name: str | None,
        scoped: bool = False,
        behaviour: str = OK,
        **more: Unpack[KeyOptions],
    ) -> None:
        """Accept another Admin API key; org_id None makes a key without organization; `more`: how its
        listings answer and show it (KeyOptions)."""
        self.keys[key] = SimKey(org_id, org_name, scoped, behaviour, **more)

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


class _Handler(OneEntryHandler):
    sim: AtlassianSimulator
    trickle = False  # set per request by a TRICKLE credential
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the body would wait for the
    # client's delayed ACK (about 40 ms on Linux loopback), which a real server does not add.
    disable_nagle_algorithm = True

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
        if status == 204:
            data = b""
        else:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
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
        for forced_method, pattern, answer in self.sim.forced:
            if forced_method == method and pattern.fullmatch(path):
                return answer
        if method == "GET" and path == "/admin/v1/orgs":
            return self._orgs()
        if method == "GET" and (m := _ORG_USERS.match(path)):
            return self._org_users(unquote(m.group(1)))
        if method == "GET" and (m := _ORG_API_TOKENS.match(path)):
            return self._api_tokens(unquote(m.group(1)))
        if method == "GET" and (m := _ORG_API_KEYS.match(path)):
            return self._api_keys(unquote(m.group(1)))
        if method == "POST" and (m := _ORG_WORKSPACES.match(path)):
            return self._workspaces(unquote(m.group(1)), body)
        if method == "GET" and path == "/rest/api/3/myself":
            return self._myself(via_gateway=False)
        if method == "GET" and _GATEWAY_MYSELF.match(path):
            return self._myself(via_gateway=True)
        if method == "POST" and _GATEWAY_PERMISSIONS.match(path):
            return self._permissions(body)
        if method == "GET" and _GATEWAY_USER.match(path):
            return self._user()
        if method == "POST" and path == REPORT_PATH:
            with self.sim._lock:
                return self.sim.privacy.answer(self.headers.get("Authorization") or "", body)
        return 404, {"code": 404, "message": "Not Found"}, {}

    # --- Admin API ------------------------------------------------------------------------------

    def _key(self) -> SimKey | None:
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        key = self.sim.keys.get(value.strip()) if scheme.lower() == "bearer" else None
        return None if key is None or key.revoked else key

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
        # User management has no scopes, so a key created with scopes may not read it.
        return self._refusal(org_id) or (200, {"data": [_ORG_USER], "links": {}}, {})

    def _refusal(self, org_id: str, call: str | None = None, *, scopes_may: bool = False) -> Answer | None:
        """What the key gets instead of reading its organization `org_id` (`call`: the name of the key's
        own behaviour there), or None when it may; a key with scopes may read only when `scopes_may`."""
        key = self._key()
        if key is None:
            return 401, {"code": 401, "message": "Unauthorized"}, {}
        for behaviour in (key.behaviour, getattr(key, call) if call else OK):
            if (trouble := self._behave(behaviour)) is not None:
                return trouble
        if key.org_id != org_id:
            return 404, {"code": 404, "message": "Organization not found"}, {}
        if key.scoped and not scopes_may:
            return 403, {"code": 403, "message": "Forbidden: the key lacks the required scopes"}, {}
        return None

    def _api_tokens(self, org_id: str) -> Answer:
        return self._refusal(org_id, "tokens_behaviour") or api_tokens_page(
            self.sim.listed_tokens, org_id, self.query, self.sim.api_tokens_next_origin
        )

    def _api_keys(self, org_id: str) -> Answer:
        return self._refusal(org_id, "keys_behaviour") or self.sim.orgs.api_keys(
            org_id, self.sim.keys, self.query
        )

    def _workspaces(self, org_id: str, body: bytes) -> Answer:
        # The search has a scope of its own (read:workspaces:admin): a key with scopes may use it.
        refusal = self._refusal(org_id, "workspaces_behaviour", scopes_may=True)
        return refusal or self.sim.orgs.search_workspaces(org_id, self.sim.url, body)

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
        name = self.sim.privacy.name_of(account_id) or self.sim.names.get(account_id)
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
        if behaviour == UNREADABLE:
            return 200, b"<html><body>Service temporarily unavailable</body></html>", {}
        if behaviour == TRICKLE:
            self.trickle = True  # _serve sends the answer's body slowly
        return None
