"""The Atlassian simulator answers each of its credentials as docs/LOCAL_STACK.md says."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from local.atlassian_sim import AtlassianSimulator

CLOUD = "11111111-2222-3333-4444-555555555555"


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


# --- Admin API keys -----------------------------------------------------------------------------


def test_good_key_sees_its_org_and_reads_users(http: httpx.Client) -> None:
    orgs = http.get("/admin/v1/orgs", headers=bearer("sim-admin-key-unscoped-GOOD1"))
    assert orgs.status_code == 200
    assert orgs.json() == {
        "data": [{"id": "sim-org-acme", "type": "orgs", "attributes": {"name": "Acme (simulated)"}}],
        "links": {},
    }
    users = http.get(
        "/admin/v1/orgs/sim-org-acme/users?limit=1", headers=bearer("sim-admin-key-unscoped-GOOD1")
    )
    assert users.status_code == 200
    assert len(users.json()["data"]) == 1


@pytest.mark.parametrize(
    ("key", "orgs", "users"),
    [
        ("sim-admin-key-scoped-SCOP1", 200, 403),  # sees its org, may not read users: a key with scopes
        ("sim-admin-key-error-ERR5", 500, 500),
        ("nope", 401, 401),
        ("sim-admin-key-unscoped-GOOD1x", 401, 401),
        ("sim-admin-key", 401, 401),
    ],
)
def test_each_key_answers_the_org_and_user_reads_as_listed(
    http: httpx.Client, key: str, orgs: int, users: int
) -> None:
    assert http.get("/admin/v1/orgs", headers=bearer(key)).status_code == orgs
    assert http.get("/admin/v1/orgs/sim-org-acme/users?limit=1", headers=bearer(key)).status_code == users


def test_key_of_no_org_gets_empty_data(http: httpx.Client) -> None:
    answer = http.get("/admin/v1/orgs", headers=bearer("sim-admin-key-no-org-NORG1"))
    assert answer.status_code == 200
    assert answer.json()["data"] == []


def test_users_of_another_org_is_404(http: httpx.Client) -> None:
    answer = http.get(
        "/admin/v1/orgs/other-org/users?limit=1", headers=bearer("sim-admin-key-unscoped-GOOD1")
    )
    assert answer.status_code == 404


def test_basic_auth_is_not_a_key(http: httpx.Client) -> None:
    answer = http.get("/admin/v1/orgs", auth=("ada@acme.test", "sim-admin-key-unscoped-GOOD1"))
    assert answer.status_code == 401


def test_rate_limited_key_is_429_with_retry_after(http: httpx.Client) -> None:
    answer = http.get("/admin/v1/orgs", headers=bearer("sim-admin-key-ratelimited-R429"))
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"


def test_slow_key_answers_like_the_good_one_after_a_while(http: httpx.Client) -> None:
    answer = http.get("/admin/v1/orgs", headers=bearer("sim-admin-key-slow-SLOW"))
    assert answer.status_code == 200
    assert answer.elapsed.total_seconds() >= 0.3
    assert answer.json()["data"][0]["id"] == "sim-org-acme"


# --- API tokens ---------------------------------------------------------------------------------


def test_classic_token_works_on_site_and_gateway(http: httpx.Client) -> None:
    auth = ("ada@acme.test", "sim-token-classic-GOOD2")
    site = http.get("/rest/api/3/myself", auth=auth)
    assert site.status_code == 200
    assert site.json() == {
        "accountId": "sim-account-ada",
        "accountType": "atlassian",
        "displayName": "Ada Admin",
        "emailAddress": "ada@acme.test",
        "active": True,
    }
    assert "x-seraph-loginreason" not in site.headers
    assert http.get(f"/ex/jira/{CLOUD}/rest/api/3/myself", auth=auth).status_code == 200


def test_email_compares_case_insensitively(http: httpx.Client) -> None:
    assert (
        http.get("/rest/api/3/myself", auth=("ADA@Acme.Test", "sim-token-classic-GOOD2")).status_code == 200
    )


def test_scoped_token_is_refused_by_site_but_taken_by_gateway(http: httpx.Client) -> None:
    auth = ("ada@acme.test", "sim-token-scoped-SCP2")
    site = http.get("/rest/api/3/myself", auth=auth)
    assert site.status_code == 401
    assert site.headers["x-seraph-loginreason"] == "AUTHENTICATED_FAILED"
    assert http.get(f"/ex/jira/{CLOUD}/rest/api/3/myself", auth=auth).status_code == 200


def test_inactive_account(http: httpx.Client) -> None:
    answer = http.get("/rest/api/3/myself", auth=("ina@acme.test", "sim-token-inactive-INA2"))
    assert answer.status_code == 200
    me = answer.json()
    assert (me["active"], me["accountId"], me["displayName"]) == (False, "sim-account-ina", "Ina Inactive")


def test_alias_reports_another_email(http: httpx.Client) -> None:
    answer = http.get("/rest/api/3/myself", auth=("alias@acme.test", "sim-token-alias-ALS2"))
    assert answer.status_code == 200
    assert answer.json()["emailAddress"] == "ada@acme.test"


def test_error_token_is_500(http: httpx.Client) -> None:
    assert http.get("/rest/api/3/myself", auth=("ada@acme.test", "sim-token-error-ERR5")).status_code == 500


@pytest.mark.parametrize(
    "credential",
    [
        {"url": "/admin/v1/orgs", "headers": bearer("sim-admin-key-trickle-DRIP")},
        {"url": "/rest/api/3/myself", "auth": ("ada@acme.test", "sim-token-trickle-DRIP")},
    ],
)
def test_trickling_credentials_send_headers_then_their_body_a_byte_at_a_time(
    sim: AtlassianSimulator, http: httpx.Client, credential: dict[str, Any]
) -> None:
    sim.trickle_seconds = 0.02
    try:
        started = time.monotonic()
        with http.stream("GET", **credential) as answer:
            headers_after = time.monotonic() - started
            chunks = list(answer.iter_raw())
        took = time.monotonic() - started
    finally:
        sim.trickle_seconds = 2.0

    body = b"".join(chunks)
    assert answer.status_code == 200
    # A byte every 0.02 s: the body takes its length times that, the headers came long before it
    # (a loaded machine may read several bytes at once, so the chunks are not counted).
    assert took >= len(body) * 0.02
    assert headers_after < took / 2
    assert json.loads(body)  # the answer of the good credential, in the end


def test_rate_limited_token_is_429(http: httpx.Client) -> None:
    answer = http.get("/rest/api/3/myself", auth=("ada@acme.test", "sim-token-ratelimited-R429"))
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "7"


def test_slow_token_is_valid_after_a_while(http: httpx.Client) -> None:
    answer = http.get("/rest/api/3/myself", auth=("ada@acme.test", "sim-token-slow-SLOW"))
    assert answer.status_code == 200
    assert answer.elapsed.total_seconds() >= 0.3


@pytest.mark.parametrize(
    ("email", "token"),
    [
        ("ada@acme.test", "wrong"),
        ("bob@acme.test", "sim-token-classic-GOOD2"),  # a token belongs to its email
        ("ina@acme.test", "sim-token-classic-GOOD2"),
    ],
)
def test_unknown_token_is_401_on_site_and_gateway(http: httpx.Client, email: str, token: str) -> None:
    site = http.get("/rest/api/3/myself", auth=(email, token))
    assert site.status_code == 401
    assert site.headers["x-seraph-loginreason"] == "AUTHENTICATED_FAILED"
    assert http.get(f"/ex/jira/{CLOUD}/rest/api/3/myself", auth=(email, token)).status_code == 401


def test_missing_or_garbled_basic_auth_is_401(http: httpx.Client) -> None:
    assert http.get("/rest/api/3/myself").status_code == 401
    assert http.get("/rest/api/3/myself", headers={"Authorization": "Basic !!!"}).status_code == 401


# --- permissions --------------------------------------------------------------------------------


def check(http: httpx.Client, account: str, system: str = "sim-system-token-acme") -> httpx.Response:
    return http.post(
        f"/ex/jira/{CLOUD}/rest/api/3/permissions/check",
        headers=bearer(system),
        json={"accountId": account, "globalPermissions": ["ADMINISTER"]},
    )


def test_admin_holds_administer(http: httpx.Client) -> None:
    answer = check(http, "sim-admin-0001")
    assert answer.status_code == 200
    assert answer.json() == {"globalPermissions": ["ADMINISTER"]}


@pytest.mark.parametrize("account", ["sim-user-0002", "someone-else"])
def test_others_do_not(http: httpx.Client, account: str) -> None:
    answer = check(http, account)
    assert answer.status_code == 200
    assert answer.json() == {"globalPermissions": []}


def test_permission_check_needs_a_system_token(http: httpx.Client) -> None:
    assert check(http, "sim-admin-0001", system="not-a-system-token").status_code == 401


# --- recording, extension, latency --------------------------------------------------------------


def test_requests_are_recorded_without_query_or_credentials(
    sim: AtlassianSimulator, http: httpx.Client
) -> None:
    http.get("/admin/v1/orgs", headers=bearer("sim-admin-key-unscoped-GOOD1"))
    http.get("/admin/v1/orgs/sim-org-acme/users?limit=1", headers=bearer("sim-admin-key-unscoped-GOOD1"))
    assert sim.requests == [("GET", "/admin/v1/orgs"), ("GET", "/admin/v1/orgs/sim-org-acme/users")]
    assert "GOOD1" not in repr(sim.requests)
    sim.reset()
    assert sim.requests == []


def test_keys_tokens_and_admins_can_be_added() -> None:
    sim = AtlassianSimulator()
    sim.add_key("test-key", "org-2", "Org Two")
    sim.add_key("test-scoped", "org-2", "Org Two", scoped=True)
    sim.add_token("Zed@Example.test", "test-token", "acc-zed", "Zed", active=True)
    sim.add_admin("acc-zed")
    with httpx.Client(base_url=sim.start()) as http:
        try:
            orgs = http.get("/admin/v1/orgs", headers=bearer("test-key")).json()
            assert orgs["data"][0]["attributes"]["name"] == "Org Two"
            assert http.get("/admin/v1/orgs/org-2/users", headers=bearer("test-scoped")).status_code == 403
            me = http.get("/rest/api/3/myself", auth=("zed@example.test", "test-token")).json()
            assert me["accountId"] == "acc-zed"
            assert check(http, "acc-zed").json() == {"globalPermissions": ["ADMINISTER"]}
        finally:
            sim.stop()


def test_latency_is_added_to_every_answer(sim: AtlassianSimulator, http: httpx.Client) -> None:
    sim.latency_ms = 200
    try:
        answer = http.get("/admin/v1/orgs", headers=bearer("nope"))
    finally:
        sim.latency_ms = 0
    assert answer.status_code == 401
    assert answer.elapsed.total_seconds() >= 0.2


def test_unknown_path_is_404_json(http: httpx.Client) -> None:
    answer = http.get("/wiki/rest/api/space")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/json")


# --- run-time changes and in-flight counting (the checks' tests and benchmark) --------------------


def test_a_removed_key_or_token_is_refused_from_then_on(sim: AtlassianSimulator, http: httpx.Client) -> None:
    sim.add_key("sim-admin-key-revoke-REV1", "sim-org-acme", "Acme")
    sim.add_token("ada@acme.test", "sim-token-revoke-REV2", "sim-account-ada", "Ada Admin")
    assert http.get("/admin/v1/orgs", headers=bearer("sim-admin-key-revoke-REV1")).status_code == 200

    sim.remove_key("sim-admin-key-revoke-REV1")
    sim.remove_token("ada@acme.test", "sim-token-revoke-REV2")

    assert http.get("/admin/v1/orgs", headers=bearer("sim-admin-key-revoke-REV1")).status_code == 401
    assert http.get("/rest/api/3/myself", auth=("ada@acme.test", "sim-token-revoke-REV2")).status_code == 401


def test_requests_in_flight_are_counted(sim: AtlassianSimulator) -> None:
    sim.reset()
    sim.latency_ms = 500
    start = threading.Barrier(3)

    def call(_: int) -> int:
        start.wait()
        return httpx.get(sim.url + "/admin/v1/orgs", headers=bearer("x")).status_code

    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            assert list(pool.map(call, range(3))) == [401] * 3
    finally:
        sim.latency_ms = 0

    assert sim.in_flight == 0
    assert sim.max_in_flight == 3


# --- The organization's user API tokens (token expiry) ------------------------------------------

API_TOKENS = "/admin/api-access/v1/orgs/sim-org-acme/api-tokens"


def list_all(http: httpx.Client, key: str, limit: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Every listed token, following links.next as Atlassian's clients do; and the number of pages."""
    tokens: list[dict[str, Any]] = []
    params: dict[str, Any] = {} if limit is None else {"limit": limit}
    pages = 0
    while True:
        answer = http.get(API_TOKENS, params=params, headers=bearer(key))
        assert answer.status_code == 200
        pages += 1
        tokens += answer.json()["data"]
        next_cursor = answer.json()["links"]["next"]
        if next_cursor is None:
            return tokens, pages
        params = {**params, "cursor": next_cursor}


def live_of(tokens: list[dict[str, Any]], account_id: str) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    return [t for t in tokens if t["user"]["id"] == account_id and parse_time(t["expiresAt"]) > now]


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_api_tokens_page_has_atlassians_shape(http: httpx.Client) -> None:
    answer = http.get(API_TOKENS, headers=bearer("sim-admin-key-unscoped-GOOD1"))
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"data", "links"}
    assert set(body["links"]) == {"self", "next", "prev"}
    assert body["links"]["prev"] is None and body["links"]["next"] is not None
    first = body["data"][0]
    assert set(first) == {"id", "label", "status", "createdAt", "expiresAt", "lastActiveAt", "user"}
    assert set(first["user"]) == {"id", "orgId", "name", "email"}
    assert first["user"]["orgId"] == "sim-org-acme"
    assert first["expiresAt"].endswith("Z")


def test_api_tokens_really_page_and_each_token_comes_once(http: httpx.Client) -> None:
    # Given the default page size, the organization's tokens span two pages
    default, pages = list_all(http, "sim-admin-key-unscoped-GOOD1")
    assert pages == 2
    # When listed three at a time
    small, small_pages = list_all(http, "sim-admin-key-unscoped-GOOD1", limit=3)
    # Then the same tokens come, each once, over more pages
    assert small_pages == -(-len(default) // 3)
    assert [t["id"] for t in small] == [t["id"] for t in default]
    assert len({t["id"] for t in default}) == len(default)


def test_the_token_just_used_is_on_the_second_page(http: httpx.Client) -> None:
    first = http.get(API_TOKENS, headers=bearer("sim-admin-key-unscoped-GOOD1")).json()
    assert "tok-max-3" not in [t["id"] for t in first["data"]]
    second = http.get(
        API_TOKENS, params={"cursor": first["links"]["next"]}, headers=bearer("sim-admin-key-unscoped-GOOD1")
    ).json()
    assert "tok-max-3" in [t["id"] for t in second["data"]]
    assert second["links"]["prev"] is not None


def test_single_token_of_its_owner(http: httpx.Client) -> None:
    tokens, _ = list_all(http, "sim-admin-key-unscoped-GOOD1")
    (eve,) = live_of(tokens, "sim-account-eve")
    days = (parse_time(eve["expiresAt"]) - datetime.now(UTC)).total_seconds() / 86400
    assert 6 < days < 7
    assert eve["status"] == "ALLOWED"
    # the token of that listing is the one the simulator accepts for Eve
    me = http.get("/rest/api/3/myself", auth=("eve@acme.test", "sim-token-expiry-one-EXP1")).json()
    assert me["accountId"] == eve["user"]["id"]


def test_several_tokens_one_just_used(http: httpx.Client) -> None:
    tokens, _ = list_all(http, "sim-admin-key-unscoped-GOOD1")
    live = live_of(tokens, "sim-account-max")
    assert len(live) == 3
    now = datetime.now(UTC)
    used = sorted((t for t in live if t["lastActiveAt"]), key=lambda t: t["lastActiveAt"], reverse=True)
    assert used[0]["id"] == "tok-max-3"
    assert now - parse_time(used[0]["lastActiveAt"]) < timedelta(hours=1)
    assert all(now - parse_time(t["lastActiveAt"]) > timedelta(hours=24) for t in used[1:])
    # an expired token of the same owner is listed too, and marked so
    (expired,) = [t for t in tokens if t["id"] == "tok-max-old"]
    assert expired["status"] == "EXPIRED" and parse_time(expired["expiresAt"]) < now
    me = http.get("/rest/api/3/myself", auth=("max@acme.test", "sim-token-expiry-used-EXP2")).json()
    assert me["accountId"] == "sim-account-max"


def test_several_tokens_without_a_clear_winner(http: httpx.Client) -> None:
    tokens, _ = list_all(http, "sim-admin-key-unscoped-GOOD1")
    live = live_of(tokens, "sim-account-tia")
    assert len(live) == 2
    assert len({t["lastActiveAt"] for t in live}) == 1  # a tie...
    assert datetime.now(UTC) - parse_time(live[0]["lastActiveAt"]) > timedelta(hours=24)  # ...and stale


def test_unmanaged_account_is_not_listed(http: httpx.Client) -> None:
    me = http.get("/rest/api/3/myself", auth=("gus@partner.test", "sim-token-unmanaged-EXP4"))
    assert me.status_code == 200
    tokens, _ = list_all(http, "sim-admin-key-unscoped-GOOD1")
    assert live_of(tokens, me.json()["accountId"]) == []
    assert all(t["user"]["email"] != "gus@partner.test" for t in tokens)


def test_api_tokens_refused_or_failing(http: httpx.Client) -> None:
    assert http.get(API_TOKENS, headers=bearer("sim-admin-key-scoped-SCOP1")).status_code == 403
    assert http.get(API_TOKENS, headers=bearer("nope")).status_code == 401
    assert http.get(API_TOKENS, headers=bearer("sim-admin-key-error-ERR5")).status_code == 500
    other = "/admin/api-access/v1/orgs/other-org/api-tokens"
    assert http.get(other, headers=bearer("sim-admin-key-unscoped-GOOD1")).status_code == 404


def test_tokens_error_key_is_valid_but_its_listing_fails(http: httpx.Client) -> None:
    key = bearer("sim-admin-key-tokens-error-TER5")
    assert http.get("/admin/v1/orgs", headers=key).status_code == 200
    assert http.get("/admin/v1/orgs/sim-org-acme/users?limit=1", headers=key).status_code == 200
    assert http.get(API_TOKENS, headers=key).status_code == 500


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "%%%"}])
def test_api_tokens_bad_paging_is_400(http: httpx.Client, params: dict[str, Any]) -> None:
    answer = http.get(API_TOKENS, params=params, headers=bearer("sim-admin-key-unscoped-GOOD1"))
    assert answer.status_code == 400


def test_api_tokens_filter_by_q_and_status(http: httpx.Client) -> None:
    key = bearer("sim-admin-key-unscoped-GOOD1")
    found = http.get(API_TOKENS, params={"q": "max@acme"}, headers=key).json()["data"]
    assert {t["id"] for t in found} == {"tok-max-old", "tok-max-1", "tok-max-2", "tok-max-3"}
    expired = http.get(API_TOKENS, params={"status": "EXPIRED"}, headers=key).json()["data"]
    assert [t["id"] for t in expired] == ["tok-max-old"]


def test_a_token_status_set_by_a_test_is_listed_and_filtered(
    sim: AtlassianSimulator, http: httpx.Client
) -> None:
    # Rex: his live token used last is REVOKED, the next BLOCKED; only the older one is ALLOWED
    tokens, _ = list_all(http, "sim-admin-key-unscoped-GOOD1")
    rex = {t["id"]: t["status"] for t in live_of(tokens, "sim-account-rex")}
    assert rex == {"tok-rex-1": "ALLOWED", "tok-rex-2": "REVOKED", "tok-rex-3": "BLOCKED"}
    (allowed,) = [t for t in tokens if t["id"] == "tok-rex-1"]
    assert all(
        t["lastActiveAt"] > allowed["lastActiveAt"] for t in tokens if t["id"] in ("tok-rex-2", "tok-rex-3")
    )
    me = http.get("/rest/api/3/myself", auth=("rex@acme.test", "sim-token-expiry-status-EXP5")).json()
    assert me["accountId"] == "sim-account-rex"
    key = bearer("sim-admin-key-unscoped-GOOD1")
    blocked = http.get(API_TOKENS, params={"status": "BLOCKED"}, headers=key).json()["data"]
    assert [t["id"] for t in blocked] == ["tok-rex-3"]
    # a test sets any token's status
    listed = sim.listed_tokens
    sim.listed_tokens = [replace(t, status="REVOKED") if t.id == "tok-eve-1" else t for t in listed]
    try:
        (eve,) = [t for t in list_all(http, "sim-admin-key-unscoped-GOOD1")[0] if t["id"] == "tok-eve-1"]
    finally:
        sim.listed_tokens = listed
    assert eve["status"] == "REVOKED"
