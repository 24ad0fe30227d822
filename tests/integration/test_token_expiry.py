"""The token's expiry read from Atlassian (docs/API.md §4), on save and on every check: each matching case
of the organization's api-tokens listing, and each failure, which leaves the entered date and never
fails (or slows by more than the deadline) a change or a check.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from api_info import expiry
from api_info.atlassian import api_access
from api_info.checks import AFTER_EXPIRY_LOOKUP_SECONDS
from local.atlassian_sim import (
    ERROR,
    ORG_ID,
    ORG_NAME,
    RATE_LIMITED,
    SLOW,
    TRICKLE,
    UNREADABLE,
    AtlassianSimulator,
)
from local.sim_api_tokens import SimListedToken, default_listed_tokens
from tests.support.checks import Checks
from tests.support.harness import Api

LISTING = "/admin/api-access/v1/orgs/sim-org-acme/api-tokens"
EVE = {"email": "eve@acme.test", "apiToken": "sim-token-expiry-one-EXP1"}
MAX = {"email": "max@acme.test", "apiToken": "sim-token-expiry-used-EXP2"}
TIA = {"email": "tia@acme.test", "apiToken": "sim-token-expiry-tied-EXP3"}
GUS = {"email": "gus@partner.test", "apiToken": "sim-token-unmanaged-EXP4"}
ENTERED = (datetime.now(UTC).date() + timedelta(days=200)).isoformat()


def in_days(days: float) -> str:
    """The UTC date of a listed token expiring `days` from now, as the simulator computes it."""
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


EVE_EXPIRES = 6.5  # the simulator's Eve: one token
MAX_EXPIRES = 12.5  # Max's token used 30 minutes ago


@pytest.fixture(autouse=True)
def listing(simulator: AtlassianSimulator) -> Iterator[list[SimListedToken]]:
    """The simulator's listing, restored after each test (the simulator outlives a test)."""
    simulator.listed_tokens = default_listed_tokens()
    yield simulator.listed_tokens
    simulator.listed_tokens = default_listed_tokens()
    simulator.api_tokens_next_origin = None


def new_key(simulator: AtlassianSimulator, tokens_behaviour: str = "ok") -> str:
    """A key the simulator accepts, unique to the test; its listing behaves as `tokens_behaviour`."""
    key = f"sim-admin-key-expiry-{uuid.uuid4().hex[:8]}"
    simulator.add_key(key, ORG_ID, ORG_NAME, tokens_behaviour=tokens_behaviour)
    return key


def save_key(api: Api, key: str = "sim-admin-key-unscoped-GOOD1") -> None:
    assert api.call("change_key", body={"apiKey": key}).status == 200


def save_token(api: Api, token: dict[str, str], expires_on: str | None = ENTERED) -> dict[str, object]:
    body = {**token, "expiresOn": expires_on} if expires_on else token
    answer = api.call("change_token", body=body)
    assert answer.status == 200, answer.body
    info: dict[str, object] = answer.body["apiToken"]
    return info


def shown(api: Api) -> tuple[object, object, object]:
    info = api.call("get_info").body["apiToken"]
    return info["expiresOn"], info["expiresOnSource"], info["daysLeft"]


def listing_requests(simulator: AtlassianSimulator) -> int:
    return sum(1 for method, path in simulator.requests if path == LISTING)


def token_of(account: str, label: str, expires_in_days: float, hours_ago: float | None) -> SimListedToken:
    name = account.removeprefix("sim-account-")
    return SimListedToken(
        f"tok-{label}", label, account, name, f"{name}@acme.test", 30, expires_in_days, hours_ago
    )


def fillers(count: int) -> list[SimListedToken]:
    return [token_of(f"sim-account-filler-{i:03}", f"filler-{i:03}", 100, 48) for i in range(count)]


# --- matching, on save --------------------------------------------------------------------------


def test_a_single_listed_token_gives_its_date_replacing_the_entered_one(
    api: Api, simulator: AtlassianSimulator
) -> None:
    save_key(api)

    info = save_token(api, EVE)

    expected = in_days(EVE_EXPIRES)
    days = (date.fromisoformat(expected) - datetime.now(UTC).date()).days
    assert (info["expiresOn"], info["expiresOnSource"], info["daysLeft"]) == (expected, "atlassian", days)
    assert shown(api) == (expected, "atlassian", days)
    assert info["status"] == "expiring"  # within EXPIRY_WARNING_DAYS


def test_of_several_tokens_the_one_used_within_a_day_and_after_every_other_is_taken(
    api: Api, simulator: AtlassianSimulator
) -> None:
    save_key(api)

    info = save_token(api, MAX, expires_on=None)

    # Not the expired one, not the older ones: the one used 30 minutes ago.
    assert (info["expiresOn"], info["expiresOnSource"]) == (in_days(MAX_EXPIRES), "atlassian")


def test_the_token_on_a_later_page_is_found(
    api: Api, simulator: AtlassianSimulator, listing: list[SimListedToken]
) -> None:
    # Given 150 other tokens first, so that Max's token in use is on the second page of 100
    listing[:0] = fillers(150)
    save_key(api)
    simulator.reset()

    info = save_token(api, MAX)

    assert (info["expiresOn"], info["expiresOnSource"]) == (in_days(MAX_EXPIRES), "atlassian")
    assert listing_requests(simulator) == 2


def test_an_absolute_next_link_on_the_api_host_is_followed(
    api: Api, simulator: AtlassianSimulator, listing: list[SimListedToken]
) -> None:
    listing[:0] = fillers(150)
    simulator.api_tokens_next_origin = simulator.url
    save_key(api)

    info = save_token(api, MAX)

    assert (info["expiresOn"], info["expiresOnSource"]) == (in_days(MAX_EXPIRES), "atlassian")


def test_a_listing_that_does_not_end_within_its_page_limit_learns_nothing(
    api: Api,
    simulator: AtlassianSimulator,
    listing: list[SimListedToken],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a page limit of 2 and Max's token on the listing's third page (a `next` that never ends
    # looks the same to the service: more pages than it will read)
    monkeypatch.setattr(api_access, "MAX_PAGES", 2)
    listing[:0] = fillers(250)
    save_key(api)
    simulator.reset()

    info = save_token(api, MAX)

    # Then nothing is learnt from the part read (a later page could hold another of Max's tokens)
    assert (info["expiresOn"], info["expiresOnSource"]) == (ENTERED, "admin")
    assert listing_requests(simulator) == 2


@pytest.mark.parametrize(
    ("token", "why"),
    [
        (TIA, "two live tokens last used at the same time"),
        (GUS, "an account the organization does not manage is not listed"),
    ],
)
def test_no_clear_token_learns_nothing_and_the_entered_date_stays(
    api: Api, simulator: AtlassianSimulator, token: dict[str, str], why: str
) -> None:
    save_key(api)

    info = save_token(api, token)

    assert (info["expiresOn"], info["expiresOnSource"]) == (ENTERED, "admin"), why


def test_several_tokens_none_used_within_a_day_learns_nothing(
    api: Api, simulator: AtlassianSimulator, listing: list[SimListedToken]
) -> None:
    listing[:] = [
        token_of("sim-account-max", "max-a", 40, 25.0),
        token_of("sim-account-max", "max-b", 60, 30.0),
    ]
    save_key(api)

    info = save_token(api, MAX, expires_on=None)

    assert (info["expiresOn"], info["expiresOnSource"]) == (None, None)


def test_expired_tokens_are_not_candidates(
    api: Api, simulator: AtlassianSimulator, listing: list[SimListedToken]
) -> None:
    # Given Eve also has an expired token, used more recently than her live one
    listing.append(token_of("sim-account-eve", "eve-expired", -2, 1.0))
    save_key(api)

    info = save_token(api, EVE)

    assert (info["expiresOn"], info["expiresOnSource"]) == (in_days(EVE_EXPIRES), "atlassian")


# --- failures, on save --------------------------------------------------------------------------


def test_without_a_stored_key_nothing_is_asked(api: Api, simulator: AtlassianSimulator) -> None:
    simulator.reset()

    info = save_token(api, EVE)

    assert (info["expiresOn"], info["expiresOnSource"]) == (ENTERED, "admin")
    assert listing_requests(simulator) == 0


def test_an_invalid_key_is_not_used(api: Api, simulator: AtlassianSimulator, checks: Checks) -> None:
    key = new_key(simulator)
    save_key(api, key)
    simulator.remove_key(key)
    checks.run("acme")  # the key is found revoked: invalid
    assert api.call("get_info").body["apiKey"]["status"] == "invalid"
    simulator.add_key(key, ORG_ID, ORG_NAME)
    simulator.reset()

    info = save_token(api, EVE)

    assert (info["expiresOn"], info["expiresOnSource"]) == (ENTERED, "admin")
    assert listing_requests(simulator) == 0


FAILURES = [
    pytest.param("scoped", id="403-key-with-scopes"),
    pytest.param(ERROR, id="500"),
    pytest.param(RATE_LIMITED, id="429"),
    pytest.param(UNREADABLE, id="unreadable-json"),
    pytest.param(SLOW, id="timeout"),
    pytest.param(TRICKLE, id="trickle"),
    pytest.param("foreign-next", id="next-link-to-another-host"),
]


def failing_listing(simulator: AtlassianSimulator, listing: list[SimListedToken], failure: str) -> str:
    """A key whose listing fails as `failure` says (Eve's token is listed on page 2 for the next link)."""
    if failure == "scoped":
        key = new_key(simulator)
        simulator.add_key(key, ORG_ID, ORG_NAME, scoped=True)  # as SCOP1: the listing is refused (403)
        return key
    if failure == "foreign-next":
        eve = listing.pop(0)
        listing[:0] = fillers(120)
        listing.append(eve)
        simulator.api_tokens_next_origin = simulator.url.replace("127.0.0.1", "localhost")
        return new_key(simulator)
    return new_key(simulator, tokens_behaviour=failure)


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failing_listing_leaves_the_entered_date_and_the_change_goes_through(
    api: Api, simulator: AtlassianSimulator, listing: list[SimListedToken], failure: str
) -> None:
    save_key(api)  # a good key for the save, its listing fine
    baseline = time.monotonic()
    save_token(api, {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"})
    usual = time.monotonic() - baseline
    key = failing_listing(simulator, listing, failure)
    record_key(api, simulator, key)
    simulator.reset()

    started = time.monotonic()
    info = save_token(api, EVE)
    took = time.monotonic() - started

    assert (info["expiresOn"], info["expiresOnSource"], info["status"]) == (ENTERED, "admin", "valid")
    # Bounded by the lookup's deadline (ATLASSIAN_TIMEOUT_SECONDS is 1 here), with room for a loaded
    # machine: unbounded, the trickled listing would take its length times 2 s, minutes.
    assert took < usual + 1 + 4.0
    if failure == "foreign-next":
        assert listing_requests(simulator) == 1  # the key never went to the other host


def record_key(api: Api, simulator: AtlassianSimulator, key: str) -> None:
    """Store `key` as the tenant's key: saved while the simulator accepts it as a plain good key, then
    given its failing behaviour back."""
    failing = simulator.keys[key]
    simulator.add_key(key, ORG_ID, ORG_NAME)
    save_key(api, key)
    simulator.keys[key] = failing


# --- on check -----------------------------------------------------------------------------------


def test_a_check_notices_a_shortened_token(
    api: Api, simulator: AtlassianSimulator, checks: Checks, listing: list[SimListedToken]
) -> None:
    save_key(api)
    save_token(api, EVE)
    assert shown(api)[:2] == (in_days(EVE_EXPIRES), "atlassian")

    # When the owner shortens it (Atlassian now lists it expiring in 2 days) and a check runs
    listing[0] = token_of("sim-account-eve", "eve-shortened", 2.5, 1.0)
    checks.run("acme")

    assert shown(api)[:2] == (in_days(2.5), "atlassian")


def test_a_check_learns_a_date_an_admin_entered_differently(
    api: Api, simulator: AtlassianSimulator, checks: Checks
) -> None:
    # Given a token saved while no key was stored: its entered date
    save_token(api, EVE)
    save_key(api)

    answer = api.call("check_now")  # the on-demand check reads the key's secret itself

    assert answer.status == 200
    assert (answer.body["apiToken"]["expiresOn"], answer.body["apiToken"]["expiresOnSource"]) == (
        in_days(EVE_EXPIRES),
        "atlassian",
    )


@pytest.mark.parametrize("failure", FAILURES)
def test_a_failing_listing_on_check_keeps_the_stored_date(
    api: Api, simulator: AtlassianSimulator, checks: Checks, listing: list[SimListedToken], failure: str
) -> None:
    save_key(api)
    save_token(api, EVE)
    stored = shown(api)
    key = failing_listing(simulator, listing, failure)
    record_key(api, simulator, key)
    # Eve's token now listed with another date: only a listing that works would tell
    listing[-1 if failure == "foreign-next" else 0] = token_of("sim-account-eve", "eve-new", 3.5, 1.0)

    response = checks.run("acme")

    assert response == {"batchItemFailures": []}  # the token itself was checked: nothing to retry
    assert shown(api) == stored
    assert api.call("get_info").body["apiToken"]["lastCheck"]["outcome"] == "ok"


def test_an_on_demand_check_with_too_little_time_left_does_not_look_the_expiry_up(
    api: Api,
    simulator: AtlassianSimulator,
    listing: list[SimListedToken],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a stored token whose listed date changed (only a lookup would tell)
    save_key(api)
    save_token(api, EVE)
    stored = shown(api)
    listing[0] = token_of("sim-account-eve", "eve-shortened", 2.5, 1.0)
    simulator.reset()

    # When the invocation has no more time left than the check needs after the lookup
    monkeypatch.setattr(api, "remaining_ms", int(AFTER_EXPIRY_LOOKUP_SECONDS * 1000))
    answer = api.call("check_now")

    # Then the token is checked, the listing is not asked, and the stored date stays
    assert answer.status == 200
    assert answer.body["apiToken"]["lastCheck"]["outcome"] == "ok"
    assert listing_requests(simulator) == 0
    assert shown(api) == stored


def test_an_on_demand_checks_lookup_has_what_the_invocation_has_left_less_the_reserve(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_key(api)
    save_token(api, EVE)
    budgets: list[float] = []
    lookup = expiry.token_expiry

    def spied(*args: Any, **kwargs: Any) -> str | None:
        budgets.append(kwargs["seconds"])
        return lookup(*args, **kwargs)

    monkeypatch.setattr(expiry, "token_expiry", spied)
    monkeypatch.setattr(api, "remaining_ms", int(AFTER_EXPIRY_LOOKUP_SECONDS * 1000) + 700)

    assert api.call("check_now").status == 200

    assert budgets == [pytest.approx(0.7)]
