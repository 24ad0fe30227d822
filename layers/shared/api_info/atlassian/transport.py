"""The one transport to Atlassian: the per-thread httpx client, the outbound URL rules, the deadline of
each exchange within the request's budget, the body cap and the mapping of failures to errors."""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar
from urllib.parse import urlsplit

from api_info.answers import MAX_BODY_BYTES, wait_seconds
from api_info.errors import AtlassianError, AtlassianUnavailable, UnsafeUrl
from api_info.observability import logger, trace_httpx
from api_info.settings import Settings

if TYPE_CHECKING:
    import ssl

    import httpx

LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}
_ENCODING_HEADERS = {b"content-encoding", b"content-length", b"transfer-encoding"}
MAX_ID_CHARS = 255  # Atlassian's ids are far shorter (an account id is at most 128 characters)
DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
# When the current Atlassian exchange (or group of exchanges) must be over, on time.monotonic()'s clock.
# Each thread has its own value: the check worker's threads each run their own exchanges.
_ENDS: ContextVar[float | None] = ContextVar("atlassian_deadline", default=None)
_T = TypeVar("_T")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Accepted:
    """Atlassian accepted the credential (it answered 200)."""


@dataclass(frozen=True)
class Refused:
    """Atlassian refused the credential; `status` is what it answered (401, 403, ...)."""

    status: int


class Transport:
    """Every exchange with Atlassian, over httpx.

    httpx is imported, and a client (with its TLS context) made, on the first call: a container
    whose requests never reach Atlassian (the operators' routes, a cached administrator answer on a
    route that validates nothing) never pays for them.
    """

    def __init__(self, settings: Settings, http: httpx.Client | None = None) -> None:
        self.settings = settings
        self.api_url = settings.atlassian_api_url.rstrip("/")
        self._api_host = (urlsplit(self.api_url).hostname or "").lower()
        self._given = http
        self._local = threading.local()
        self._tls: ssl.SSLContext | None = None
        self._tls_lock = threading.Lock()

    @property
    def http(self) -> httpx.Client:
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
                timeout=self.settings.atlassian_timeout_seconds,
                follow_redirects=False,
                trust_env=False,
                transport=deadline_transport(self._tls, _time_left),
            )
            self._local.client = client
        return client

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
            self.settings.allow_insecure_loopback
            and host in LOOPBACK_HOSTS
            and parts.scheme in ("http", "https")
        ):
            return url.rstrip("/")
        if parts.scheme != "https" or port not in (None, 443) or not _is_dns_name(host):
            raise UnsafeUrl()
        if host != self._api_host and not any(
            host.endswith(suffix if suffix.startswith(".") else "." + suffix)
            for suffix in self.settings.atlassian_site_hosts
        ):
            raise UnsafeUrl()
        return url.rstrip("/")

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One exchange with Atlassian within the current deadline (at most ATLASSIAN_TIMEOUT_SECONDS);
        a timeout or a network failure is AtlassianUnavailable, a body past MAX_BODY_BYTES is
        AtlassianError."""
        import httpx

        try:
            with (
                deadline(self.settings.atlassian_timeout_seconds),
                self.http.stream(method, url, **kwargs) as streamed,
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
    exchange gets at most ATLASSIAN_TIMEOUT_SECONDS of it (`Transport.send`), and a key or token
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


_SIDE_BY_SIDE = 4  # threads for the calls a save makes side by side (one save at a time per container)
_side_pool: ThreadPoolExecutor | None = None
_side_pool_lock = threading.Lock()


def together(*calls: Callable[[], Any]) -> list[Future[Any]]:
    """Make independent calls side by side under the deadline in force here, and return once every one
    is done (each is bounded by its own deadline): their futures, in order (`.result()` raises what a
    call raised). The first runs on this thread, the rest on a small pool of the container's, so that
    nothing of a request is left running after its answer. Off the invocation's own thread (the check
    worker's, which run many checks at once) they run in a row, with the same answers and errors."""
    if threading.current_thread() is not threading.main_thread():
        return [_done(call) for call in calls]
    global _side_pool
    with _side_pool_lock:
        if _side_pool is None:
            _side_pool = ThreadPoolExecutor(max_workers=_SIDE_BY_SIDE, thread_name_prefix="atlassian")
    started = [_side_pool.submit(within_deadline(_call), call) for call in calls[1:]]
    first = [_done(calls[0])] if calls else []
    wait(started)
    return [*first, *started]


def _call(call: Callable[[], Any]) -> Any:
    return call()


def _done(call: Callable[[], Any]) -> Future[Any]:
    future: Future[Any] = Future()
    try:
        future.set_result(call())
    except Exception as exc:
        future.set_exception(exc)
    return future


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


def is_id(value: Any) -> TypeGuard[str]:
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
