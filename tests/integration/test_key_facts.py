"""What Atlassian knows of a key (docs/API.md, PUT /api-info/key and section 4): its organization must hold
the tenant's Jira site, and its expiry is read from the organization's listing of its API keys, on save
and on every check; a token's listing counts only the tokens Atlassian allows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.atlassian_sim import AtlassianSimulator
from local.dev_issuer import installation
from local.sim_orgs import SimWorkspace, sim_site
from tests.support.checks import Checks
from tests.support.harness import Api

KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
WORKSPACES = r"/admin/v2/orgs/[^/]+/workspaces"
KEYS = r"/admin/api-access/v1/orgs/[^/]+/api-keys"
TOKENS = r"/admin/api-access/v1/orgs/[^/]+/api-tokens"


def instant(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def day(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


def workspace(site_id: str, host: str) -> dict[str, Any]:
    return {"id": f"ari:cloud:jira::site/{site_id}", "type": "workspaces", "attributes": {"hostUrl": host}}


def listed_key(expires: float | None, *, used: float | None = None, **more: Any) -> dict[str, Any]:
    return {
        "id": "k",
        "expiresAt": instant(expires) if expires is not None else None,
        "lastActiveAt": instant(used) if used is not None else None,
        "scopes": [],
        "revocationDate": None,
        **more,
    }


@pytest.fixture(autouse=True)
def fresh(simulator: AtlassianSimulator) -> Iterator[None]:
    simulator.reset()
    yield
    simulator.reset()


def test_a_key_of_an_organization_that_does_not_hold_the_site_is_refused_and_nothing_is_stored(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given an organization whose workspaces, over two pages, are other sites
    simulator.force(
        "POST", WORKSPACES, 200, {"data": [workspace("s1", "https://globex.atlassian.net")], "links": {}}
    )

    # When its key is saved
    answer = api.call("change_key", body=KEY)

    # Then the administrator is told which organization it is and which site to create the key for
    assert (answer.status, answer.body["error"]["code"]) == (422, "api_key_other_organization")
    message = answer.body["error"]["message"]
    assert "Acme (simulated)" in message and simulator.url in message
    assert api.call("get_info").body["apiKey"]["status"] == "not_configured"


@pytest.mark.parametrize(
    "held",
    [
        workspace(installation("acme")["cloudId"], "https://renamed.atlassian.net"),  # by its id
        workspace("other-id", "HTTP://127.0.0.1:{port}"),  # by its address, whatever the case
    ],
    ids=["by-cloud-id", "by-host-url"],
)
def test_a_key_of_the_organization_that_holds_the_site_is_saved(
    api: Api, simulator: AtlassianSimulator, held: dict[str, Any]
) -> None:
    port = simulator.url.rsplit(":", 1)[-1]
    held["attributes"]["hostUrl"] = held["attributes"]["hostUrl"].format(port=port)
    simulator.force("POST", WORKSPACES, 200, {"data": [held], "links": {}})

    assert api.call("change_key", body=KEY).status == 200


@pytest.mark.parametrize(("status", "saved"), [(403, True), (404, True), (400, True), (401, False)])
def test_a_search_that_cannot_tell_accepts_the_key_and_a_401_refuses_it(
    api: Api, simulator: AtlassianSimulator, status: int, saved: bool
) -> None:
    simulator.force("POST", WORKSPACES, status, {"code": status})

    answer = api.call("change_key", body=KEY)

    assert answer.status == (200 if saved else 422)
    if not saved:
        assert answer.body["error"]["code"] == "api_key_invalid"


def test_a_scoped_key_is_refused_as_such_even_when_its_organization_does_not_hold_the_site(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # The validation's order decides when several calls refuse.
    simulator.force("POST", WORKSPACES, 200, {"data": [], "links": {}})

    answer = api.call("change_key", body={"apiKey": "sim-admin-key-scoped-SCOP1"})

    assert answer.body["error"]["code"] == "api_key_has_scopes"


def test_a_saved_key_whose_organization_no_longer_holds_the_site_becomes_invalid_at_its_next_check(
    api: Api, simulator: AtlassianSimulator, checks: Checks
) -> None:
    assert api.call("change_key", body=KEY).status == 200
    simulator.force("POST", WORKSPACES, 200, {"data": [], "links": {}})

    assert checks.run("acme") == {"batchItemFailures": []}

    info = api.call("get_info").body["apiKey"]
    assert (info["status"], info["lastCheck"]["detail"]) == ("invalid", "api_key_other_organization")
    (event,) = checks.events()
    assert event["detail"]["status"] == "invalid"
    assert event["detail"]["lastCheck"]["detail"] == "api_key_other_organization"


def test_a_key_nobody_dated_shows_the_date_its_organization_lists_and_gets_its_reminder(
    api: Api, simulator: AtlassianSimulator, checks: Checks
) -> None:
    # Given the organization lists one live key without scopes, expiring in 20 days, beside a revoked
    # one and a scoped one that expire sooner
    revoked = listed_key(5, revocationDate=instant(-1), revokedBy={"id": "x"})
    scoped = listed_key(6, scopes=["read:users"])
    simulator.force("GET", KEYS, 200, {"data": [listed_key(20.5), revoked, scoped], "links": {}})

    # When the key is saved without a date
    info = api.call("change_key", body=KEY).body["apiKey"]

    # Then its date is the one listed, and a check announces the 30-day reminder
    days = (datetime.fromisoformat(day(20.5)).date() - datetime.now(UTC).date()).days
    assert (info["expiresOn"], info["expiresOnSource"], info["daysLeft"]) == (day(20.5), "atlassian", days)
    assert checks.run("acme") == {"batchItemFailures": []}
    (reminder,) = checks.reminders()
    assert (reminder["detail"]["credential"], reminder["detail"]["threshold"]) == ("apiKey", 30)


@pytest.mark.parametrize(
    "listing",
    [
        (403, {"code": 403}),  # a listing the key may not read
        (500, {"code": 500}),  # an outage
        (200, {"data": [listed_key(20), listed_key(40)], "links": {}}),  # ambiguous: none used
    ],
    ids=["forbidden", "outage", "ambiguous"],
)
def test_a_listing_that_cannot_tell_keeps_the_entered_date_and_never_fails_the_change(
    api: Api, simulator: AtlassianSimulator, listing: tuple[int, Any]
) -> None:
    simulator.force("GET", KEYS, *listing)

    answer = api.call("change_key", body={**KEY, "expiresOn": day(100)})

    assert answer.status == 200
    assert (answer.body["apiKey"]["expiresOn"], answer.body["apiKey"]["expiresOnSource"]) == (
        day(100),
        "admin",
    )


def test_a_key_saved_before_learns_its_date_at_its_next_check_and_a_failed_listing_keeps_it(
    api: Api, simulator: AtlassianSimulator, checks: Checks
) -> None:
    assert api.call("change_key", body=KEY).status == 200
    assert api.call("get_info").body["apiKey"]["expiresOn"] is None

    simulator.force("GET", KEYS, 200, {"data": [listed_key(90.5)], "links": {}})
    assert checks.run("acme") == {"batchItemFailures": []}
    assert api.call("get_info").body["apiKey"]["expiresOn"] == day(90.5)

    simulator.reset()
    simulator.force("GET", KEYS, 500, {"code": 500})
    assert checks.run("acme") == {"batchItemFailures": []}
    info = api.call("get_info").body["apiKey"]
    assert (info["expiresOn"], info["expiresOnSource"]) == (day(90.5), "atlassian")


def test_a_revoked_or_blocked_token_in_the_listing_is_never_taken_for_the_saved_one(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given a saved key, and a listing where the token's account has one allowed token (in 50 days) and a
    # revoked and a blocked one, used more recently, that would otherwise make the choice ambiguous
    assert api.call("change_key", body=KEY).status == 200

    def token(expires: float, used: float, status: str | None) -> dict[str, Any]:
        user = {"id": "sim-account-ada", "orgId": "sim-org-acme"}
        return {"expiresAt": instant(expires), "lastActiveAt": instant(used), "status": status, "user": user}

    listing = [token(50.5, -30, "ALLOWED"), token(10, -0.01, "REVOKED"), token(11, -0.02, "BLOCKED")]
    simulator.force("GET", TOKENS, 200, {"data": listing, "links": {}})

    # When the token is saved
    info = api.call("change_token", body=TOKEN).body["apiToken"]

    # Then the allowed one gives the date
    assert (info["expiresOn"], info["expiresOnSource"]) == (day(50.5), "atlassian")


# --- against the simulator's own organizations, listings and paging -------------------------------


def test_the_other_organization_s_key_is_refused_after_every_page_of_its_workspaces(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given Globex's sites one per page: none of them the simulated site
    simulator.orgs.workspace_page_size = 1

    answer = api.call("change_key", body={"apiKey": "sim-admin-key-other-org-OTHR"})

    assert (answer.status, answer.body["error"]["code"]) == (422, "api_key_other_organization")
    assert "Globex (simulated)" in answer.body["error"]["message"]
    searched = [path for method, path in simulator.requests if method == "POST" and "workspaces" in path]
    assert len(searched) == len(simulator.orgs.workspaces_of("sim-org-globex")) > 1


def test_a_site_found_on_a_later_page_holds_the_key(api: Api, simulator: AtlassianSimulator) -> None:
    elsewhere = [SimWorkspace(f"site-{i}", f"other {i}", f"https://other{i}.atlassian.net") for i in range(3)]
    simulator.orgs.set_workspaces("sim-org-acme", [*elsewhere, sim_site()])
    simulator.orgs.workspace_page_size = 2

    assert api.call("change_key", body=KEY).status == 200


def test_the_dated_key_learns_its_date_over_pages_past_revoked_and_scoped_keys(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given Initech's listing one key a page: EXP20 beside a revoked key and a scoped one, both used later
    simulator.orgs.key_page_size = 1

    info = api.call("change_key", body={"apiKey": "sim-admin-key-expiring-EXP20"}).body["apiKey"]

    assert (info["expiresOn"], info["expiresOnSource"]) == (day(20), "atlassian")
    listed = [path for _, path in simulator.requests if path.endswith("/api-keys")]
    assert len(listed) == len(simulator.orgs.listed_keys_of("sim-org-initech", simulator.keys)) >= 3


def test_two_live_keys_none_used_last_within_a_day_learn_nothing(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given a second live key in Initech's listing, used more recently than EXP20 but over a day ago
    simulator.orgs.add_listed_key(
        "sim-org-initech", expires_at=timedelta(days=60), last_active_at=-timedelta(days=2)
    )

    answer = api.call("change_key", body={"apiKey": "sim-admin-key-expiring-EXP20", "expiresOn": day(100)})

    # EXP20 was used an hour ago: strictly last and within the day, so it is still told apart
    assert answer.body["apiKey"]["expiresOn"] == day(20)
    # but with another key used later still, nobody can tell: the entered date stays
    simulator.orgs.add_listed_key(
        "sim-org-initech", expires_at=timedelta(days=70), last_active_at=-timedelta(minutes=5)
    )
    simulator.orgs.add_listed_key(
        "sim-org-initech", expires_at=timedelta(days=80), last_active_at=-timedelta(minutes=5)
    )
    again = api.call("change_key", body={"apiKey": "sim-admin-key-expiring-EXP20", "expiresOn": day(100)})
    assert (again.body["apiKey"]["expiresOn"], again.body["apiKey"]["expiresOnSource"]) == (day(100), "admin")


def test_rex_s_revoked_and_blocked_tokens_are_never_taken_for_his_saved_one(
    api: Api, simulator: AtlassianSimulator
) -> None:
    assert api.call("change_key", body=KEY).status == 200

    info = api.call(
        "change_token", body={"email": "rex@acme.test", "apiToken": "sim-token-expiry-status-EXP5"}
    ).body["apiToken"]

    assert (info["expiresOn"], info["expiresOnSource"]) == (day(45), "atlassian")


def test_after_the_first_answer_a_key_save_s_calls_go_side_by_side(
    api: Api, simulator: AtlassianSimulator
) -> None:
    # Given a container that knows its administrator, and Atlassian answering 200 ms after each request
    assert api.call("get_info").status == 200
    simulator.reset()
    simulator.latency_ms = 200
    try:
        # When a key is saved
        answer = api.call("change_key", body=KEY)
    finally:
        simulator.latency_ms = 0

    # Then the probe, the workspace search, the key listing and the name lookup were asked at once
    assert answer.status == 200
    assert simulator.max_in_flight == 4
