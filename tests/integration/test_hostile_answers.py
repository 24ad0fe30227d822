"""A huge or hostile answer from Atlassian, on every call the service makes (contract 2d): never a 500,
never a change lock left held, the attempt in the history where the contract records it; names kept only
cleaned and cut; numbers of headers read by the one parser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from local.atlassian_sim import AtlassianSimulator
from local.dev_issuer import installation
from tests.support.harness import Api, JwksServer
from tests.support.state import history_items

KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
WRONG_TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-wrong-XXXX"}  # the site says 401
JIRA = r"/ex/jira/[^/]+/rest/api/3"
MIB = 1024 * 1024
TENANT = installation("acme")["installationId"]

# Every call the service makes to Atlassian: (method, path), the request that makes it, the body, and
# whether a failed attempt is recorded in the history (a change is; the administrator check's 403 and
# the personal-data cycle are not history events).
CALLS: dict[str, tuple[str, str, str, dict[str, str] | None]] = {
    "permissions check": ("POST", JIRA + "/permissions/check", "change_key", KEY),
    "orgs": ("GET", "/admin/v1/orgs", "change_key", KEY),
    "org users": ("GET", "/admin/v1/orgs/[^/]+/users", "change_key", KEY),
    "site myself": ("GET", "/rest/api/3/myself", "change_token", TOKEN),
    "gateway myself": ("GET", JIRA + "/myself", "change_token", WRONG_TOKEN),
    "user (display name)": ("GET", JIRA + "/user", "change_token", TOKEN),
    "api-tokens listing": ("GET", "/admin/api-access/v1/orgs/[^/]+/api-tokens", "change_token", TOKEN),
    "report accounts": ("POST", "/app/report-accounts/", "personal_data", None),
}
# Hostile answers (the unit tests of tests/unit/test_atlassian_answers.py cover every form of a number).
HOSTILE: dict[str, tuple[int, Any, dict[str, str]]] = {
    "a body past 1 MiB": (200, b'{"x": "' + b"a" * MIB + b'"}', {}),
    "JSON nested past the parser's recursion": (200, b"[" * 100_000, {}),
    "a 429 waiting '\u00b2' seconds": (429, {}, {"Retry-After": "\u00b2"}),
}
HUGE_NAME = "\u202e" + "N" * 450_000  # 450 KB, reading backwards


@pytest.fixture
def sim(simulator: AtlassianSimulator) -> Iterator[AtlassianSimulator]:
    yield simulator
    simulator.forced = []


def last_event(aws: dict[str, str]) -> dict[str, Any]:
    items = sorted(history_items(aws["TABLE_NAME"], TENANT), key=lambda e: e["SK"]["S"])
    return items[-1] if items else {}


@pytest.mark.parametrize("call", CALLS)
def test_a_hostile_answer_on_any_call_is_never_a_500_leaves_no_lock_and_is_recorded(
    api: Api, sim: AtlassianSimulator, aws: dict[str, str], call: str
) -> None:
    method, path, sample, body = CALLS[call]
    # Given a saved key (the token's expiry is read with it) and a saved token (the accounts reported)
    assert api.call("change_key", body=KEY).status == 200
    assert api.call("change_token", body=TOKEN).status == 200
    for hostile, forced in HOSTILE.items():
        before = last_event(aws)

        # When the call answers something hostile (in a fresh container: no administrator answer cached)
        api.new_container()
        sim.force(method, path, *forced)
        sim.requests.clear()
        answer = api.call(sample, body=body)
        sim.forced = []
        assert [p for m, p in sim.requests if m == method and re.fullmatch(path, p)], (hostile, "not called")

        # Then the answer is one of the contract's, never a 500,
        assert answer.status != 500, (hostile, answer.body)
        assert answer.status in (200, 202, 403, 422, 502, 503), (hostile, answer.body)
        event = last_event(aws)
        if sample == "personal_data" or answer.status == 403:
            assert event == before, hostile  # not history events (the 403 is refused before recording)
            continue
        # the change is recorded with its outcome,
        outcome = {200: "succeeded", 422: "rejected"}.get(answer.status, "failed")
        assert event != before, hostile
        assert (event["action"]["S"], event["outcome"]["S"]) == ("changed", outcome), hostile
        if outcome != "succeeded":
            assert event["code"]["S"] == answer.body["error"]["code"], hostile
        # and the next change goes through at once: no lock was left held
        assert api.call(sample, body=body).status in (200, 422), hostile


@pytest.mark.parametrize(
    ("method", "path", "sample", "body", "answer", "shown"),
    [
        (
            "GET",
            "/rest/api/3/myself",
            "change_token",
            TOKEN,
            {"accountId": "sim-account-ada", "displayName": HUGE_NAME, "active": True},
            lambda info: info["apiToken"]["account"]["displayName"],
        ),
        (
            "GET",
            JIRA + "/user",
            "change_token",
            TOKEN,
            {"accountId": "sim-admin-0001", "displayName": HUGE_NAME},
            lambda info: info["apiToken"]["createdBy"]["displayName"],
        ),
        (
            "GET",
            "/admin/v1/orgs",
            "change_key",
            KEY,
            {"data": [{"id": "sim-org-acme", "attributes": {"name": HUGE_NAME}}]},
            lambda info: info["apiKey"]["organization"]["name"],
        ),
    ],
    ids=["token owner's name", "administrator's name", "organization's name"],
)
def test_a_huge_name_reading_backwards_is_kept_cleaned_and_cut_and_the_change_goes_through(
    api: Api,
    sim: AtlassianSimulator,
    aws: dict[str, str],
    method: str,
    path: str,
    sample: str,
    body: dict[str, str],
    answer: dict[str, Any],
    shown: Any,
) -> None:
    sim.force(method, path, 200, answer)

    changed = api.call(sample, body=body)

    assert changed.status == 200, changed.body
    assert shown(api.call("get_info").body) == "N" * 255
    assert last_event(aws)["outcome"]["S"] == "succeeded"


@pytest.mark.parametrize(
    ("path", "answer"),
    [
        ("/rest/api/3/myself", {"accountId": "a" * 450_000, "displayName": "Ada", "active": True}),
        ("/admin/v1/orgs", {"data": [{"id": "o" * 450_000, "attributes": {"name": "Acme"}}]}),
        ("/rest/api/3/myself", {"accountId": "ada\u202e", "active": True}),
    ],
    ids=["account id of 450 KB", "organization id of 450 KB", "account id with an override"],
)
def test_an_id_the_service_could_not_keep_is_an_unreadable_answer(
    api: Api, sim: AtlassianSimulator, aws: dict[str, str], path: str, answer: dict[str, Any]
) -> None:
    sim.force("GET", path, 200, answer)
    sample, body = ("change_token", TOKEN) if "myself" in path else ("change_key", KEY)

    refused = api.call(sample, body=body)

    assert (refused.status, refused.body["error"]["code"]) == (502, "atlassian_error")
    assert last_event(aws)["code"]["S"] == "atlassian_error"
    sim.forced = []
    assert api.call(sample, body=body).status == 200  # no lock left held


def test_a_429_s_wait_in_an_http_date_is_passed_on_in_seconds(api: Api, sim: AtlassianSimulator) -> None:
    sim.force("GET", "/admin/v1/orgs", 429, {}, {"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"})

    answer = api.call("change_key", body=KEY)

    assert (answer.status, answer.headers["retry-after"]) == (503, "86400")  # a date decades away: 24 h


def test_the_cycle_period_is_read_by_the_one_parser(api: Api, sim: AtlassianSimulator) -> None:
    assert api.call("change_token", body=TOKEN).status == 200
    sim.privacy.cycle_period = "\u00b2"

    answer = api.call("personal_data", account=None)

    assert answer.status == 202, answer.body


# --- the JWKS -------------------------------------------------------------------------------------


@pytest.fixture
def failing_jwks(jwks: JwksServer) -> Iterator[JwksServer]:
    yield jwks
    jwks.failure = None


@pytest.mark.parametrize(
    "failure",
    [(500, b"{}"), (200, b"{" + b"x" * (2 * MIB)), (200, b"[" * 100_000)],
    ids=["500", "huge", "nested"],
)
def test_a_token_of_an_unknown_key_is_503_when_the_key_set_cannot_be_fetched(
    api: Api, failing_jwks: JwksServer, failure: tuple[int, bytes]
) -> None:
    # Given a key set that cannot be fetched (a fresh container holds no key yet)
    failing_jwks.failure = failure

    # When a token arrives
    answer = api.call("get_info")

    # Then the service cannot tell whether it is genuine: 503, not 401
    assert (answer.status, answer.body["error"]["code"]) == (503, "atlassian_unavailable")


def test_a_token_of_an_unknown_key_is_503_when_the_key_set_is_unreachable(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORGE_JWKS_URL", "http://127.0.0.1:9/.well-known/jwks.json")  # discard: refused
    api.new_container()

    answer = api.call("get_info")

    assert (answer.status, answer.body["error"]["code"]) == (503, "atlassian_unavailable")


def test_a_token_of_a_key_already_held_is_verified_while_the_key_set_cannot_be_fetched(
    api: Api, failing_jwks: JwksServer
) -> None:
    assert api.call("get_info").status == 200  # the key set is fetched and held
    failing_jwks.failure = (500, b"{}")

    assert api.call("get_info").status == 200
