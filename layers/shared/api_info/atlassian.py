"""The Atlassian client: the only code that talks HTTP to Atlassian, and where outbound URLs are vetted."""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, TypeVar
from urllib.parse import quote, urlsplit

from api_info.answers import MAX_BODY_BYTES, clean_text, wait_seconds
from api_info.errors import AtlassianError, AtlassianUnavailable, CredentialRejected, UnsafeUrl
from api_info.models import Account, Organization
from api_info.observability import logger, trace_httpx
from api_info.settings import Settings

if TYPE_CHECKING:
    import ssl

    import httpx

LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
_ENCODING_HEADERS = {b"content-encoding", b"content-length", b"transfer-encoding"}
AdminAnswer = Literal["administrator", "no", "app_refused"]
MAX_ID_CHARS = 255  # Atlassian's ids are far shorter (an account id is at most 128 characters)
NAME_LOOKUP_SECONDS = 2.0  # the contract's deadline for the saving administrator's display name
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# When the current Atlassian exchange (or group of exchanges) must be over, on time.monotonic()'s clock.
# Each thread has its own value: the check worker's threads each run their own exchanges.
_ENDS: ContextVar[float | None] = ContextVar("atlassian_deadline", default=None)
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class KeyFacts:
    organization: Organization


@dataclass(frozen=True)
class TokenFacts:
    account: Account


class AtlassianClient:
    """Validates keys and tokens and asks Jira about permissions, over httpx.

    httpx is imported, and a client (with its TLS context) made, on the first call: a container
    whose requests never reach Atlassian (the operators' routes, a cached administrator answer on a
    route that validates nothing) never pays for them.
    """

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self._settings = settings
        self._api_url = settings.atlassian_api_url.rstrip("/")
        self._api_host = (urlsplit(self._api_url).hostname or "").lower()
        self._given = http
        self._local = threading.local()
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    @property
    def _http(self) -> httpx.Client:
        """This thread's client. The check worker's threads each keep their own connection, so no
        request waits on the others in a shared pool; they share one TLS context."""
        if self._given is not None:
            return self._given
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            import httpx

            from api_info.deadline import deadline_transport

            with self._tls_lock:
                if self._tls is None:
                    trace_httpx()
                    self._tls = httpx.create_ssl_context()
            # No redirects: a 3xx could point at an internal address. No proxies from the environment.
            client = httpx.Client(
                timeout=self._settings.atlassian_timeout_seconds,
                follow_redirects=False,
                trust_env=False,
                transport=deadline_transport(self._tls, _time_left),
            )
            self._local.client = client
        return client

    # --- outbound URL rules ---------------------------------------------------------------------

    def vet_url(self, url: str) -> str:
        """Return a token-supplied site or API base URL if the contract allows calling it, else raise."""
        if any(ch.isspace() or not ch.isprintable() for ch in url):
            # urlsplit quietly drops tabs and line breaks, and httpx refuses other control characters.
            raise UnsafeUrl()
        parts = urlsplit(url)
        host = parts.hostname or ""
        if (
            parts.username is not None
            or parts.password is not None
            or parts.query
            or parts.fragment
            or "\\" in url
            or ".." in parts.path
        ):
            raise UnsafeUrl()
        try:
            port = parts.port
        except ValueError:
            raise UnsafeUrl() from None
        if (
            self._settings.allow_insecure_loopback
            and host in LOOPBACK_HOSTS
            and parts.scheme in ("http", "https")
        ):
            return url.rstrip("/")
        if parts.scheme != "https" or port not in (None, 443) or not _is_dns_name(host):
            raise UnsafeUrl()
        if host != self._api_host and not any(
            host.endswith(suffix if suffix.startswith(".") else "." + suffix)
            for suffix in self._settings.atlassian_site_hosts
        ):
            raise UnsafeUrl()
        return url.rstrip("/")

    # --- the calls ------------------------------------------------------------------------------

    def validate_key(self, api_key: str) -> KeyFacts:
        """Check an org Admin API key: it must reach an organization and be a key without scopes."""
        if not header_safe(api_key):
            # Atlassian's keys are printable ASCII; anything else cannot even be sent as a header.
            raise CredentialRejected("api_key_invalid")
        with deadline(self._settings.atlassian_timeout_seconds):  # both exchanges together
            return self._validate_key(api_key)

    def _validate_key(self, api_key: str) -> KeyFacts:
        auth = {"Authorization": f"Bearer {api_key}"}
        orgs = self.send("GET", f"{self._api_url}/admin/v1/orgs", headers=auth)
        if orgs.status_code in (401, 403):
            raise CredentialRejected("api_key_invalid")
        data = read_json(orgs).get("data")
        if not isinstance(data, list):
            raise AtlassianError()
        if not data:
            raise CredentialRejected("api_key_no_organization")
        first = data[0] if isinstance(data[0], dict) else {}
        org_id = first.get("id")
        if not _is_id(org_id):
            raise AtlassianError()
        attributes = first.get("attributes") if isinstance(first.get("attributes"), dict) else {}
        name = attributes.get("name") if isinstance(attributes, dict) else None
        # User management has no scopes, so a key created with scopes is refused here.
        users = self.send(
            "GET", f"{self._api_url}/admin/v1/orgs/{quote(org_id, safe='')}/users?limit=1", headers=auth
        )
        if users.status_code == 403:
            raise CredentialRejected("api_key_has_scopes")
        if users.status_code == 401:
            raise CredentialRejected("api_key_invalid")
        read_json(users)
        return KeyFacts(Organization(id=org_id, name=clean_text(name)))

    def validate_token(self, *, site_url: str, cloud_id: str, email: str, api_token: str) -> TokenFacts:
        """Check a user API token with its email against the Jira site, then tell scoped tokens apart."""
        site = self.vet_url(site_url)
        with deadline(self._settings.atlassian_timeout_seconds):  # both exchanges together
            return self._validate_token(site, cloud_id, email, api_token)

    def _validate_token(self, site: str, cloud_id: str, email: str, api_token: str) -> TokenFacts:
        import httpx

        auth = httpx.BasicAuth(email, api_token)
        answer = self.send("GET", f"{site}/rest/api/3/myself", auth=auth)
        refused = "AUTHENTICATED_FAILED" in answer.headers.get("x-seraph-loginreason", "")
        if answer.status_code == 200 and not refused:
            me = read_json(answer)
            account_id = me.get("accountId")
            if not _is_id(account_id):
                raise AtlassianError()
            if me.get("active") is False:
                raise CredentialRejected("api_token_account_inactive")
            address = me.get("emailAddress")
            if isinstance(address, str) and address.casefold() != email.casefold():
                raise CredentialRejected("api_token_email_mismatch")
            return TokenFacts(Account(account_id=account_id, display_name=clean_text(me.get("displayName"))))
        if answer.status_code not in (200, 401, 403):
            read_json(answer)  # raises the right error for 5xx, 429 and other surprises
            raise AtlassianError()
        gateway = self.send(
            "GET", f"{self._api_url}/ex/jira/{quote(cloud_id, safe='')}/rest/api/3/myself", auth=auth
        )
        if gateway.status_code == 200:
            raise CredentialRejected("api_token_has_scopes")
        if gateway.status_code >= 500 or gateway.status_code == 429:
            read_json(gateway)
        raise CredentialRejected("api_token_invalid")

    def admin_answer(self, *, api_base_url: str, system_token: str, account_id: str) -> AdminAnswer:
        """Ask Jira whether the account holds the global ADMINISTER permission.

        "app_refused" when Jira refuses the app's system token itself (401/403: the app is no longer
        installed); any other doubt (an error, an unreadable answer, a URL we never call) is "no".
        """
        if not header_safe(system_token):
            logger.warning("Administrator check failed closed", extra={"reason": "UnsendableSystemToken"})
            return "no"
        try:
            base = self.vet_url(api_base_url)
            answer = self.send(
                "POST",
                f"{base}/rest/api/3/permissions/check",
                headers={"Authorization": f"Bearer {system_token}"},
                json={"accountId": account_id, "globalPermissions": ["ADMINISTER"]},
            )
            if answer.status_code in (401, 403):
                return "app_refused"
            granted = read_json(answer).get("globalPermissions")
        except (AtlassianError, AtlassianUnavailable, UnsafeUrl) as exc:
            logger.warning("Administrator check failed closed", extra={"reason": type(exc).__name__})
            return "no"
        return "administrator" if isinstance(granted, list) and "ADMINISTER" in granted else "no"

    def display_name(self, *, api_base_url: str, system_token: str, account_id: str) -> str | None:
        """The account's Jira display name, or None: a best effort within NAME_LOOKUP_SECONDS."""
        if not header_safe(system_token):
            return None
        try:
            base = self.vet_url(api_base_url)
            with deadline(NAME_LOOKUP_SECONDS):
                answer = self.send(
                    "GET",
                    f"{base}/rest/api/3/user",
                    params={"accountId": account_id},
                    headers={"Authorization": f"Bearer {system_token}"},
                )
            name = read_json(answer).get("displayName")
        except (AtlassianError, AtlassianUnavailable, UnsafeUrl) as exc:
            logger.info("The display name was not looked up", extra={"reason": type(exc).__name__})
            return None
        return clean_text(name)

    # --- plumbing -------------------------------------------------------------------------------

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One exchange with Atlassian within the current deadline (at most ATLASSIAN_TIMEOUT_SECONDS);
        a timeout or a network failure is AtlassianUnavailable, a body past MAX_BODY_BYTES is
        AtlassianError. For the calls of other modules too."""
        import httpx

        try:
            with (
                deadline(self._settings.atlassian_timeout_seconds),
                self._http.stream(method, url, **kwargs) as streamed,
            ):
                body = _read_capped(streamed)
        except httpx.TimeoutException:
            raise AtlassianUnavailable(
                "Atlassian did not answer in time. Try again in a few minutes."
            ) from None
        except httpx.DecodingError:  # a body its Content-Encoding does not decode: unreadable
            raise AtlassianError() from None
        except httpx.HTTPError:
            raise AtlassianUnavailable() from None
        # The body as read (decoded), so the answer no longer names its transfer encoding.
        headers = [(k, v) for k, v in streamed.headers.raw if k.lower() not in _ENCODING_HEADERS]
        answer = httpx.Response(streamed.status_code, headers=headers, content=body, request=streamed.request)
        logger.debug("Atlassian answered", extra={"path": urlsplit(url).path, "status": answer.status_code})
        return answer


def _read_capped(streamed: httpx.Response) -> bytes:
    """The answer's body, decoded, or AtlassianError once it passes MAX_BODY_BYTES (the rest unread)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in streamed.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            logger.warning("Atlassian's answer was too large to read", extra={"limit": MAX_BODY_BYTES})
            raise AtlassianError()
        chunks.append(chunk)
    return b"".join(chunks)


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """One deadline, `seconds` away, for the exchanges inside; an enclosing one that ends sooner still
    holds. The outermost is the request's outbound budget (`api.serve`, contract 2a: 12 s); each
    exchange gets at most ATLASSIAN_TIMEOUT_SECONDS of it (`AtlassianClient.send`), and a key or token
    validation shares one such deadline between its two calls."""
    ends = _clock() + seconds
    outer = _ENDS.get()
    token = _ENDS.set(ends if outer is None else min(ends, outer))
    try:
        yield
    finally:
        _ENDS.reset(token)


def within_deadline(func: Callable[[_T], _R]) -> Callable[[_T], _R]:
    """`func`, to run on another thread (a pool's) under the deadline in force here: calls made side by
    side share the request's budget as calls made in a row do."""
    ends = _ENDS.get()

    def run(arg: _T) -> _R:
        token = _ENDS.set(ends)
        try:
            return func(arg)
        finally:
            _ENDS.reset(token)

    return run


def read_json(answer: httpx.Response) -> dict[str, Any]:
    """The JSON object Atlassian answered, or the error its answer means."""
    if answer.status_code == 429:
        raise AtlassianUnavailable(
            "Atlassian is limiting requests just now. Try again in a minute.",
            retry_after=retry_after(answer),
        )
    if answer.status_code != 200:
        raise AtlassianError()
    try:
        body = answer.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than json's recursion
        raise AtlassianError() from None
    if not isinstance(body, dict):
        raise AtlassianError()
    return body


def _time_left() -> float | None:
    """Seconds left of this thread's current Atlassian deadline (negative once passed), None if none."""
    ends = _ENDS.get()
    return None if ends is None else ends - _clock()


def _clock() -> float:
    """The deadlines' clock (a seam for tests)."""
    return time.monotonic()


def retry_after(answer: httpx.Response) -> int | None:
    """The wait a 429 asks for (contract 2d): its Retry-After, else its X-RateLimit-Reset, capped at 24 h."""
    wait = wait_seconds(answer.headers.get("retry-after"))
    return wait if wait is not None else wait_seconds(answer.headers.get("x-ratelimit-reset"))


def _is_id(value: Any) -> TypeGuard[str]:
    """Whether an id in Atlassian's answer (an organization's, an account's) is one the service can keep
    and send back: 1 to MAX_ID_CHARS printable ASCII characters without spaces. Anything else is an
    unreadable answer, never an item too large to store."""
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS and header_safe(value)


def _is_dns_name(host: str) -> bool:
    if not host or host.endswith("."):
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return all(DNS_LABEL.match(part) for part in host.split("."))
    return False


def header_safe(value: str) -> bool:
    """Whether a credential can be sent in an HTTP header as it is: printable ASCII, no spaces."""
    return value.isascii() and all(33 <= ord(ch) <= 126 for ch in value)
