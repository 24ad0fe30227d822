"""The simulator's organizations (local/sim_orgs.py): the workspace search and the API-key listing, as
docs/LOCAL_STACK.md describes them, with their defaults, their cases and their paging."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.atlassian_sim import AtlassianSimulator
from local.dev_issuer import installation
from local.sim_credentials import CREDENTIALS_HELP, ERROR, default_keys, default_tokens
from local.sim_orgs import SimWorkspace, sim_site

REPO = Path(__file__).resolve().parents[2]
GOOD = "sim-admin-key-unscoped-GOOD1"
EXPIRING = "sim-admin-key-expiring-EXP20"
OTHER = "sim-admin-key-other-org-OTHR"
REVOKED = "sim-admin-key-revoked-RVK1"
ACME_CLOUD_ID = installation("acme")["cloudId"]


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def workspaces(http: httpx.Client, key: str, org: str = "sim-org-acme", body: Any = None) -> httpx.Response:
    return http.post(f"/admin/v2/orgs/{org}/workspaces", json=body or {"limit": 100}, headers=bearer(key))


def all_workspaces(http: httpx.Client, key: str, org: str) -> tuple[list[dict[str, Any]], int]:
    """Every workspace, following links.next as the service does: the limit first, then the cursor alone."""
    found: list[dict[str, Any]] = []
    body: dict[str, Any] = {"limit": 100}
    pages = 0
    while True:
        answer = workspaces(http, key, org, body)
        assert answer.status_code == 200
        pages += 1
        found += answer.json()["data"]
        following = answer.json()["links"]["next"]
        if following is None:
            return found, pages
        body = {"cursor": following}


def keys_listing(http: httpx.Client, key: str, org: str, **params: Any) -> httpx.Response:
    return http.get(f"/admin/api-access/v1/orgs/{org}/api-keys", params=params, headers=bearer(key))


def all_keys(http: httpx.Client, key: str, org: str, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every listed key, following links.next: a cursor, or an absolute URL."""
    found: list[dict[str, Any]] = []
    answer = keys_listing(http, key, org, **params)
    pages = 1
    while True:
        assert answer.status_code == 200
        found += answer.json()["data"]
        following = answer.json()["links"]["next"]
        if following is None:
            return found, pages
        if "://" in following:
            answer = http.get(following, headers=bearer(key))
        else:
            answer = keys_listing(http, key, org, **{**params, "cursor": following})
        pages += 1


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def candidates(keys: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The listed keys that could be the caller's: no scopes, not revoked, an expiry still ahead."""
    now = datetime.now(UTC)
    return [
        k
        for k in keys
        if not k["scopes"]
        and k["revocationDate"] is None
        and k["expiresAt"] is not None
        and parse_time(k["expiresAt"]) > now
    ]


# --- the workspace search -------------------------------------------------------------------------


def test_an_organization_nobody_configured_holds_the_simulated_site(
    sim: AtlassianSimulator, http: httpx.Client
) -> None:
    answer = workspaces(http, GOOD)
    assert answer.status_code == 200
    body = answer.json()
    assert body["data"] == [
        {
            "id": f"ari:cloud:jira::site/{ACME_CLOUD_ID}",
            "type": "workspaces",
            "attributes": {
                "name": "acme (simulated)",
                "typeKey": "jira",
                "type": "product",
                "hostUrl": sim.url,
                "status": "online",
            },
        }
    ]
    assert body["links"]["next"] is None and body["links"]["prev"] is None
    # the same for an organization a test adds, and for the organization that dates its key
    sim.add_key("test-key-org-two-WS", "org-two", "Org Two")
    assert workspaces(http, "test-key-org-two-WS", "org-two").json()["data"] == body["data"]
    assert workspaces(http, EXPIRING, "sim-org-initech").json()["data"] == body["data"]


def test_globex_holds_its_own_sites_and_not_the_simulated_one(
    sim: AtlassianSimulator, http: httpx.Client
) -> None:
    org = http.get("/admin/v1/orgs", headers=bearer(OTHER)).json()["data"][0]
    assert (org["id"], org["attributes"]["name"]) == ("sim-org-globex", "Globex (simulated)")
    found, _ = all_workspaces(http, OTHER, "sim-org-globex")
    assert len(found) == 3
    assert all(not w["id"].endswith("/" + ACME_CLOUD_ID) for w in found)
    assert all(w["attributes"]["hostUrl"] != sim.url for w in found)
    assert "https://globex.atlassian.net" in {w["attributes"]["hostUrl"] for w in found}
    # the key otherwise works: it reads its organization's users
    assert http.get("/admin/v1/orgs/sim-org-globex/users", headers=bearer(OTHER)).status_code == 200


def test_workspaces_page_by_a_cursor_sent_alone(sim: AtlassianSimulator, http: httpx.Client) -> None:
    # Given five sites, the simulated one last, and pages of two
    others = [SimWorkspace(f"site-{i}", f"site {i}", f"https://site{i}.atlassian.net") for i in range(4)]
    sim.orgs.set_workspaces("sim-org-acme", [*others, sim_site()])
    sim.orgs.workspace_page_size = 2
    # When every page is read
    found, pages = all_workspaces(http, GOOD, "sim-org-acme")
    # Then each comes once, in order, over three pages
    assert pages == 3
    assert [w["id"].rsplit("/", 1)[1] for w in found] == [*(f"site-{i}" for i in range(4)), ACME_CLOUD_ID]
    second = workspaces(http, GOOD, body={"cursor": workspaces(http, GOOD).json()["links"]["next"]}).json()
    assert second["links"]["prev"] is not None and second["meta"]["startIndex"] == 2


def test_a_limit_below_the_page_size_is_kept_from_page_to_page(
    sim: AtlassianSimulator, http: httpx.Client
) -> None:
    sim.orgs.set_workspaces("sim-org-acme", [SimWorkspace(f"s{i}", f"s{i}", None) for i in range(3)])
    first = workspaces(http, GOOD, body={"limit": 1}).json()
    assert len(first["data"]) == 1
    second = workspaces(http, GOOD, body={"cursor": first["links"]["next"]}).json()
    assert [w["id"] for w in second["data"]] == ["ari:cloud:jira::site/s1"]


def test_an_organization_may_hold_no_site_until_the_next_reset(
    sim: AtlassianSimulator, http: httpx.Client
) -> None:
    sim.orgs.set_workspaces("sim-org-acme", [])
    assert workspaces(http, GOOD).json()["data"] == []
    sim.reset()
    assert workspaces(http, GOOD).json()["data"][0]["attributes"]["hostUrl"] == sim.url


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "5"},
        {"limit": True},
        {"cursor": "d29ya3NwYWNlczoxOjEwMA", "limit": 5},  # a cursor goes alone
        {"cursor": "%%%"},
        {"cursor": 7},
        [1],
    ],
)
def test_a_bad_search_body_is_400(http: httpx.Client, body: Any) -> None:
    assert workspaces(http, GOOD, body=body).status_code == 400


def test_a_search_body_that_is_not_json_is_400(http: httpx.Client) -> None:
    answer = http.post("/admin/v2/orgs/sim-org-acme/workspaces", content=b"limit=5", headers=bearer(GOOD))
    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("key", "org", "status"),
    [
        ("nope", "sim-org-acme", 401),
        (REVOKED, "sim-org-initech", 401),
        (GOOD, "sim-org-globex", 404),  # another organization's sites
        (OTHER, "sim-org-acme", 404),
        ("sim-admin-key-error-ERR5", "sim-org-acme", 500),
        ("sim-admin-key-ratelimited-R429", "sim-org-acme", 429),
        ("sim-admin-key-scoped-SCOP1", "sim-org-acme", 200),  # the search has a scope of its own
        ("sim-admin-key-no-org-NORG1", "sim-org-acme", 404),
    ],
)
def test_each_key_answers_the_search_as_its_other_calls(
    http: httpx.Client, key: str, org: str, status: int
) -> None:
    assert workspaces(http, key, org).status_code == status


def test_a_key_whose_search_alone_fails(sim: AtlassianSimulator, http: httpx.Client) -> None:
    sim.add_key("test-key-search-fails-WS5", "org-failing", "Failing", workspaces_behaviour=ERROR)
    assert http.get("/admin/v1/orgs", headers=bearer("test-key-search-fails-WS5")).status_code == 200
    assert keys_listing(http, "test-key-search-fails-WS5", "org-failing").status_code == 200
    assert workspaces(http, "test-key-search-fails-WS5", "org-failing").status_code == 500


# --- the API-key listing ---------------------------------------------------------------------------


def test_the_key_listing_has_atlassians_shape(http: httpx.Client) -> None:
    answer = keys_listing(http, EXPIRING, "sim-org-initech")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"data", "links"}
    assert set(body["links"]) == {"self", "next", "prev"}
    fields = {"id", "label", "createdAt", "expiresAt", "lastActiveAt", "createdBy", "scopes"}
    for key in body["data"]:
        assert set(key) == fields | {"revokedBy", "revocationDate"}
        assert set(key["createdBy"]) == {"id", "name", "email"}
        assert parse_time(key["createdAt"]) <= datetime.now(UTC)
    assert "EXP20" not in answer.text  # a listing names keys by id and label, never by value


def test_initech_lists_exp20_as_the_only_key_that_can_be_the_callers(http: httpx.Client) -> None:
    keys, _ = all_keys(http, EXPIRING, "sim-org-initech")
    by_label = {k["label"]: k for k in keys}
    assert set(by_label) == {"api-info", "old laptop", "reporting"}
    (only,) = candidates(keys)
    assert only is by_label["api-info"]
    days = (parse_time(only["expiresAt"]) - datetime.now(UTC)).total_seconds() / 86400
    assert 19.9 < days <= 20
    # the revoked key and the key with scopes were used after it: only the rule's filters tell them apart
    revoked, scoped = by_label["old laptop"], by_label["reporting"]
    assert revoked["revokedBy"]["id"] == "sim-admin-0001" and revoked["revocationDate"] is not None
    assert scoped["scopes"] and scoped["revocationDate"] is None
    for later in (revoked, scoped):
        assert parse_time(later["lastActiveAt"]) > parse_time(only["lastActiveAt"])
        assert parse_time(later["expiresAt"]) > datetime.now(UTC)
    # and the revoked key is refused everywhere
    assert http.get("/admin/v1/orgs", headers=bearer(REVOKED)).status_code == 401


def test_a_key_added_without_an_expiry_is_listed_without_one(http: httpx.Client) -> None:
    keys, pages = all_keys(http, GOOD, "sim-org-acme")
    assert pages == 1
    assert len(keys) == sum(1 for k in default_keys().values() if k.org_id == "sim-org-acme")
    assert all(k["expiresAt"] is None and k["revocationDate"] is None for k in keys)
    assert candidates(keys) == []  # nothing to learn: the entered dates of today's tests stand
    assert sum(1 for k in keys if k["scopes"]) == 1  # SCOP1


def test_a_key_added_with_its_listing_fields(sim: AtlassianSimulator, http: httpx.Client) -> None:
    expires = datetime(2030, 1, 31, 12, 0, tzinfo=UTC)
    sim.add_key(
        "test-key-dated-DT1",
        "org-dated",
        "Dated",
        label="nightly",
        expires_at=expires,
        last_active_at=-timedelta(hours=2),
    )
    sim.add_key("test-key-gone-DT2", "org-dated", "Dated", expires_at=timedelta(days=3), revoked=True)
    (dated, gone) = all_keys(http, "test-key-dated-DT1", "org-dated")[0]
    assert (dated["label"], dated["expiresAt"]) == ("nightly", "2030-01-31T12:00:00.000Z")
    assert timedelta(hours=1) < datetime.now(UTC) - parse_time(dated["lastActiveAt"]) < timedelta(hours=3)
    assert gone["revocationDate"] is not None and gone["revokedBy"] is not None
    assert http.get("/admin/v1/orgs", headers=bearer("test-key-gone-DT2")).status_code == 401
    assert [k["id"] for k in candidates([dated, gone])] == [dated["id"]]


def test_a_second_live_key_makes_the_listing_ambiguous_until_the_next_reset(
    sim: AtlassianSimulator, http: httpx.Client
) -> None:
    row_id = sim.orgs.add_listed_key("sim-org-initech", "ci", expires_at=timedelta(days=90))
    keys, _ = all_keys(http, EXPIRING, "sim-org-initech")
    assert {k["label"] for k in candidates(keys)} == {"api-info", "ci"}
    assert row_id in {k["id"] for k in keys}
    sim.reset()
    assert [k["label"] for k in candidates(all_keys(http, EXPIRING, "sim-org-initech")[0])] == ["api-info"]


def test_the_key_listing_pages_by_cursor_or_by_url(sim: AtlassianSimulator, http: httpx.Client) -> None:
    # Given five more rows in Initech's listing (eight keys) and pages of three at most
    for i in range(5):
        sim.orgs.add_listed_key("sim-org-initech", f"row {i}")
    sim.orgs.key_page_size = 3
    # When read by cursor, then by URL, then with a smaller limit
    by_cursor, pages = all_keys(http, EXPIRING, "sim-org-initech")
    sim.orgs.next_origin = sim.url
    by_url, url_pages = all_keys(http, EXPIRING, "sim-org-initech")
    by_two, two_pages = all_keys(http, EXPIRING, "sim-org-initech", limit=2)
    # Then the same keys come, each once
    assert (pages, url_pages, two_pages) == (3, 3, 4)
    assert [k["id"] for k in by_cursor] == [k["id"] for k in by_url] == [k["id"] for k in by_two]
    assert len({k["id"] for k in by_cursor}) == 8


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "x"}, {"cursor": "%%%"}])
def test_the_key_listing_bad_paging_is_400(http: httpx.Client, params: dict[str, Any]) -> None:
    assert keys_listing(http, EXPIRING, "sim-org-initech", **params).status_code == 400


@pytest.mark.parametrize(
    ("key", "org", "status"),
    [
        ("sim-admin-key-scoped-SCOP1", "sim-org-acme", 403),  # like the token listing
        ("nope", "sim-org-acme", 401),
        (REVOKED, "sim-org-initech", 401),
        (GOOD, "sim-org-initech", 404),
        ("sim-admin-key-error-ERR5", "sim-org-acme", 500),
        ("sim-admin-key-ratelimited-R429", "sim-org-acme", 429),
        ("sim-admin-key-tokens-error-TER5", "sim-org-acme", 200),  # only its token listing fails
    ],
)
def test_each_key_answers_the_key_listing_as_its_other_calls(
    http: httpx.Client, key: str, org: str, status: int
) -> None:
    assert keys_listing(http, key, org).status_code == status


def test_a_key_whose_key_listing_alone_fails(sim: AtlassianSimulator, http: httpx.Client) -> None:
    key = "test-key-listing-fails-KL5"
    sim.add_key(key, "org-failing", "Failing", keys_behaviour=ERROR)
    assert keys_listing(http, key, "org-failing").status_code == 500
    assert workspaces(http, key, "org-failing").status_code == 200
    tokens = http.get("/admin/api-access/v1/orgs/org-failing/api-tokens", headers=bearer(key))
    assert tokens.status_code == 200


def test_a_slow_key_is_slow_on_the_search_too(http: httpx.Client) -> None:
    # the module's simulator answers the slow credentials after 0.3 s
    answer = workspaces(http, "sim-admin-key-slow-SLOW")
    assert answer.status_code == 200
    assert answer.elapsed.total_seconds() >= 0.3


# --- the fixed credentials are all shown to a person trying the stack -----------------------------


def test_every_fixed_key_and_token_is_in_the_banner_and_the_docs() -> None:
    names = [*default_keys(), *(token for _, token in default_tokens())]
    local_stack = (REPO / "docs/LOCAL_STACK.md").read_text()
    assert [n for n in names if n not in CREDENTIALS_HELP or n not in local_stack] == []
    # The README's table may shorten a name of a row to its case ("`-ratelimited-R429`").
    readme = (REPO / "README.md").read_text()
    assert [n for n in names if n.removeprefix("sim-admin-key").removeprefix("sim-token") not in readme] == []
