"""One deadline per exchange with Atlassian: an answer that trickles in byte by byte, each byte well
within httpx's per-read timeout, still ends at the deadline, and the change it held is answered 503,
frees its credential at once and is recorded."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from api_info import wiring
from api_info.atlassian import AtlassianClient, transport
from api_info.credentials import API_KEY
from api_info.credentials.kind import Facts, Validation
from api_info.errors import AtlassianUnavailable
from api_info.records import Tenant
from api_info.settings import Settings
from local.atlassian_sim import ORG_ID, ORG_NAME, TRICKLE, AtlassianSimulator
from local.dev_issuer import installation
from tests.support.harness import Api
from tests.support.state import current_secret, history_items

DEADLINE = 1.0  # ATLASSIAN_TIMEOUT_SECONDS in the tests (tests/conftest.py)
# Allowed beyond the deadline for everything else a call or a request does here (AWS over moto too).
SLACK = 1.0
KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
TRICKLING = {
    "apiKey": ("change_key", {"apiKey": "sim-admin-key-trickle-DRIP"}, KEY),
    "apiToken": ("change_token", {"email": "ada@acme.test", "apiToken": "sim-token-trickle-DRIP"}, TOKEN),
}


@pytest.fixture
def trickle(simulator: AtlassianSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A byte of the answer every 0.2 s: no read waits as long as the 1 s timeout, the whole takes 15 s."""
    monkeypatch.setattr(simulator, "trickle_seconds", 0.2)


def validate_key(atlassian: AtlassianClient, api_key: str) -> Facts:
    """The key's validation, as a change or a check makes it."""
    secret = {API_KEY.name: SecretStr(api_key)}
    return API_KEY.validate(Validation(atlassian, Tenant(installation_id="t"), secret))


def client(url: str) -> AtlassianClient:
    return AtlassianClient(
        Settings(
            forge_app_id="x",
            atlassian_api_url=url,
            allow_insecure_loopback=True,
            atlassian_timeout_seconds=DEADLINE,
        )
    )


def timed(call: Any) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except Exception as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


# --- the client -----------------------------------------------------------------------------------


def test_an_answer_body_that_trickles_in_ends_at_the_deadline(
    simulator: AtlassianSimulator, trickle: None
) -> None:
    error, took = timed(lambda: validate_key(client(simulator.url), "sim-admin-key-trickle-DRIP"))

    assert isinstance(error, AtlassianUnavailable)
    assert DEADLINE - 0.1 < took < DEADLINE + SLACK


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """A server whose whole answer, status line and headers included, comes a byte every 0.1 s."""
    answer = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"data": []}'
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                for i in range(len(answer)):
                    if stop.wait(0.1):
                        return
                    try:
                        conn.sendall(answer[i : i + 1])
                    except OSError:
                        break

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()


def test_the_deadline_covers_the_status_line_and_headers_too(trickling_server: str) -> None:
    # The 78 bytes before the body alone would take 7.8 s.
    error, took = timed(lambda: validate_key(client(trickling_server), "sim-admin-key-any-KEY1"))

    assert isinstance(error, AtlassianUnavailable)
    assert took < DEADLINE + SLACK


def test_each_call_of_a_validation_keeps_its_own_deadline(
    simulator: AtlassianSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a key whose calls (orgs, then users and the workspace search) each answer within the
    # deadline, though not all of them within one
    monkeypatch.setattr(simulator, "slow_seconds", 0.6)

    # When it is validated
    error, _ = timed(lambda: validate_key(client(simulator.url), "sim-admin-key-slow-SLOW"))

    # Then no call is cut short by the time the others took: the key is validated (the request's own
    # budget, 12 s in production, still bounds them all together)
    assert error is None


def test_a_fresh_exchange_gets_a_whole_deadline_on_a_kept_alive_connection(
    simulator: AtlassianSimulator,
) -> None:
    # The deadline is the exchange's, not the connection's: a reused connection is not already late.
    atlassian = client(simulator.url)
    validate_key(atlassian, "sim-admin-key-unscoped-GOOD1")
    time.sleep(DEADLINE + 0.1)

    assert validate_key(atlassian, "sim-admin-key-unscoped-GOOD1")["organization"].id == "sim-org-acme"


# --- a change through its handler -----------------------------------------------------------------


@pytest.mark.parametrize("credential", ["apiKey", "apiToken"])
def test_a_change_whose_answer_trickles_in_is_503_soon_frees_the_credential_and_is_recorded(
    api: Api, aws: dict[str, str], trickle: None, credential: str
) -> None:
    sample, trickling, good = TRICKLING[credential]
    # Given a stored credential
    assert api.call(sample, body=good).status == 200
    before = api.call("get_info").body[credential]
    tenant = api.call("get_info").body["tenant"]["installationId"]

    # When a change's Atlassian answer trickles in
    error, took = timed(lambda: api.call(sample, body=trickling))
    answer = api.answers[-1]

    # Then it is answered 503 within the administrator check's and the validation's deadlines
    assert error is None
    assert (answer.status, answer.body["error"]["code"]) == (503, "atlassian_unavailable")
    assert took < 2 * DEADLINE + SLACK
    # and nothing of the stored credential changed,
    assert api.call("get_info").body[credential] == before
    assert current_secret(tenant, credential) == good
    # the attempt is in the history,
    last = sorted(history_items(aws["TABLE_NAME"], tenant), key=lambda e: e["SK"]["S"])[-1]
    assert (last["action"]["S"], last["outcome"]["S"], last["code"]["S"]) == (
        "changed",
        "failed",
        "atlassian_unavailable",
    )
    assert last["maskedValue"]["S"] == "••••••••DRIP"
    # and the next change goes through at once, not 409
    assert api.call(sample, body=good).status == 200


def test_a_check_whose_answer_trickles_in_ends_at_the_deadline_as_an_error(
    api: Api, simulator: AtlassianSimulator, trickle: None
) -> None:
    # Given a stored key whose Atlassian answers then start to trickle in
    key = f"sim-admin-key-drip-{uuid.uuid4().hex[:8]}"
    simulator.add_key(key, ORG_ID, ORG_NAME)
    assert api.call("change_key", body={"apiKey": key}).status == 200
    simulator.add_key(key, ORG_ID, ORG_NAME, behaviour=TRICKLE)

    # When it is checked (the same client calls as the check worker's)
    error, took = timed(lambda: api.call("check_now"))
    answer = api.answers[-1]

    # Then the check ends at the deadline, as one Atlassian could not answer: the status stays
    assert error is None and answer.status == 200
    assert answer.body["apiKey"]["lastCheck"]["outcome"] == "error"
    assert answer.body["apiKey"]["lastCheck"]["detail"] == "atlassian_unavailable"
    assert answer.body["apiKey"]["status"] == "valid"
    assert took < 2 * DEADLINE + SLACK


# --- one outbound budget per request (contract 2a) ------------------------------------------------

LATENCY = 4.0  # what each Atlassian answer takes on the deadlines' clock (no time on the wall's)
EVE = {"email": "eve@acme.test", "apiToken": "sim-token-expiry-one-EXP1"}  # listed with an expiry


@dataclass
class VirtualClock:
    """The deadlines' clock, moved `latency` forward by each request the simulator receives."""

    offset: float = 0.0
    latency: float = 0.0
    calls: list[tuple[str, float, float]] = field(default_factory=list)  # (path, start, time allowed)

    def now(self) -> float:
        return time.monotonic() + self.offset

    def watch(self) -> None:
        """Note every outbound call of the current container's client with when it started and the
        time it was allowed; an answer that comes after its deadline is a timeout, as the socket would
        have made it."""
        http = wiring.services().atlassian.transport.http
        send = http.send

        def timed_send(request: httpx.Request, **kwargs: Any) -> httpx.Response:
            left = transport._time_left()
            self.calls.append((request.url.path, self.now(), float("inf") if left is None else left))
            answer = send(request, **kwargs)
            late = transport._time_left()
            if late is not None and late <= 0:
                answer.close()
                raise httpx.ReadTimeout("answered after the deadline", request=request)
            return answer

        http.send = timed_send  # type: ignore[method-assign]
        self.latency = LATENCY


@pytest.fixture
def virtual(
    api: Api, simulator: AtlassianSimulator, monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]
) -> VirtualClock:
    """Production's deadlines (5 s a call, 12 s a request) on a clock each Atlassian answer moves 4 s
    once `watch` is called."""
    monkeypatch.setenv("ATLASSIAN_TIMEOUT_SECONDS", "5")
    api.new_container()
    clock = VirtualClock()
    monkeypatch.setattr(transport, "_clock", clock.now)
    received = simulator._record

    def slow(method: str, path: str) -> None:
        clock.offset += clock.latency
        received(method, path)

    monkeypatch.setattr(simulator, "_record", slow)
    return clock


def test_each_call_gets_at_most_5_s_and_never_more_than_is_left_of_the_request_s_12_s(
    api: Api, virtual: VirtualClock
) -> None:
    # Given a saved key, so that a token change makes the administrator check, the validation, then the
    # token listing and the name lookup side by side (4 s each here)
    assert api.call("change_key", body=KEY).status == 200
    api.new_container()  # no administrator answer cached
    virtual.watch()
    started = virtual.now()

    # When the token is changed
    answer = api.call("change_token", body=EVE)

    # Then no call was allowed past the request's 12 s, nor more than 5 s:
    assert len(virtual.calls) >= 3
    for path, start, allowed in virtual.calls:
        assert allowed <= 5.0 + 1e-6, path
        assert start + allowed <= started + 12.0 + SLACK, path
    # and the change stands (what the listing and the name lookup did not get in time is left out)
    assert answer.status == 200, answer.body


def test_a_change_whose_budget_runs_out_is_503_frees_the_credential_and_is_recorded(
    api: Api, aws: dict[str, str], virtual: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a budget of 6 s: the administrator check (4 s) leaves the validation 2 s, which it needs 4 of
    monkeypatch.setenv("OUTBOUND_BUDGET_SECONDS", "6")
    api.new_container()
    virtual.watch()

    # When a token is changed
    answer = api.call("change_token", body=TOKEN)

    # Then it is 503, recorded, and the credential is free for the next change
    assert (answer.status, answer.body["error"]["code"]) == (503, "atlassian_unavailable")
    tenant = installation("acme")["installationId"]
    last = sorted(history_items(aws["TABLE_NAME"], tenant), key=lambda e: e["SK"]["S"])[-1]
    assert (last["outcome"]["S"], last["code"]["S"]) == ("failed", "atlassian_unavailable")
    monkeypatch.setenv("OUTBOUND_BUDGET_SECONDS", "12")
    api.new_container()
    assert api.call("change_token", body=TOKEN).status == 200
