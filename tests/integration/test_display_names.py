"""People by name: the saving administrator's Jira display name, looked up once per change, best effort."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from local.atlassian_sim import ADMIN_ACCOUNT, DISPLAY_NAMES, OK, AtlassianSimulator
from tests.support.harness import OPERATOR, Api

KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
NAME = DISPLAY_NAMES[ADMIN_ACCOUNT]


@pytest.fixture
def lookups(simulator: AtlassianSimulator) -> Iterator[AtlassianSimulator]:
    """The simulator, its user lookup put back to normal afterwards (it serves the whole session)."""
    yield simulator
    simulator.user_lookup = OK
    simulator.slow_seconds = 2


def user_lookups(simulator: AtlassianSimulator) -> int:
    return sum(1 for _, path in simulator.requests if path.endswith("/rest/api/3/user"))


@pytest.mark.parametrize(
    ("sample", "body", "credential"), [("change_key", KEY, "apiKey"), ("change_token", TOKEN, "apiToken")]
)
def test_get_and_the_history_show_the_saving_administrator_by_name(
    api: Api, lookups: AtlassianSimulator, sample: str, body: dict[str, str], credential: str
) -> None:
    lookups.reset()

    assert api.call(sample, body=body).status == 200

    created_by = api.call("get_info").body[credential]["createdBy"]
    assert created_by == {"type": "atlassian", "accountId": ADMIN_ACCOUNT, "displayName": NAME}
    (event,) = api.call("history").body["events"]
    assert event["actor"] == created_by
    assert user_lookups(lookups) == 1  # once per change


@pytest.mark.parametrize("trouble", ["error", "rate_limited"])
def test_a_failed_lookup_leaves_no_name_and_the_change_goes_through(
    api: Api, lookups: AtlassianSimulator, trouble: str
) -> None:
    lookups.user_lookup = trouble

    answer = api.call("change_key", body=KEY)

    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == "valid"
    assert answer.body["apiKey"]["createdBy"] == {
        "type": "atlassian",
        "accountId": ADMIN_ACCOUNT,
        "displayName": None,
    }
    assert api.call("history").body["events"][0]["actor"]["displayName"] is None


def test_a_slow_lookup_delays_the_change_by_at_most_its_2_s_deadline(
    api: Api, lookups: AtlassianSimulator
) -> None:
    api.call("change_key", body=KEY)  # a warm container: what follows is the lookup's own time
    lookups.user_lookup, lookups.slow_seconds = "slow", 10

    started = time.monotonic()
    answer = api.call(
        "change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": "2099-01-01"}
    )
    took = time.monotonic() - started

    assert answer.status == 200
    assert answer.body["apiKey"]["createdBy"]["displayName"] is None
    assert took < 4.5, took


def test_an_operator_change_looks_nobody_up(api: Api, lookups: AtlassianSimulator) -> None:
    api.call("get_info")
    lookups.reset()

    answer = api.call("change_key", body=KEY, operator=OPERATOR)

    assert answer.body["apiKey"]["createdBy"] == {"type": "aws", "arn": OPERATOR}
    assert user_lookups(lookups) == 0


def test_a_refused_change_looks_nobody_up(api: Api, lookups: AtlassianSimulator) -> None:
    lookups.reset()

    assert api.call("change_key", body={"apiKey": "sim-admin-key-wrong-XXXX"}).status == 422

    assert user_lookups(lookups) == 0


def test_a_refusal_a_delete_and_a_check_carry_the_name_already_learnt_without_a_lookup(
    api: Api, lookups: AtlassianSimulator
) -> None:
    # Given the administrator's name learnt when they saved the token
    assert api.call("change_token", body=TOKEN).status == 200
    lookups.reset()

    # When they make a refused key change (nothing of the key is stored), check now, and delete the token
    assert api.call("change_key", body={"apiKey": "sim-admin-key-wrong-XXXX"}).status == 422
    assert api.call("check_now").status == 200
    assert api.call("delete_token").status == 200

    # Then every one of those lines names them as the token's record did, and Jira was not asked
    events = api.call("history").body["events"]
    assert [(e["credential"], e["action"], e["outcome"]) for e in events[:3]] == [
        ("apiToken", "deleted", "succeeded"),
        ("apiToken", "checked", "succeeded"),
        ("apiKey", "changed", "rejected"),
    ]
    named = {"type": "atlassian", "accountId": ADMIN_ACCOUNT, "displayName": NAME}
    assert [e["actor"] for e in events[:3]] == [named] * 3
    assert user_lookups(lookups) == 0


def test_a_refusal_by_someone_never_named_keeps_the_account_id_alone(
    api: Api, lookups: AtlassianSimulator
) -> None:
    assert api.call("change_key", body={"apiKey": "sim-admin-key-scoped-SCOP1"}).status == 422

    (event,) = api.call("history").body["events"]
    assert event["actor"] == {"type": "atlassian", "accountId": ADMIN_ACCOUNT, "displayName": None}
