"""Personal data reporting: POST /lifecycle/personal-data reports the accounts a tenant holds to the
simulated Personal data reporting API, erases the closed ones and refreshes the updated ones' names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from api_info import privacy
from api_info.atlassian import Transport
from api_info.credentials import API_KEY, API_TOKEN
from api_info.records import HistoryEvent
from api_info.store.history import PendingEvent
from api_info.wiring import services
from local.atlassian_sim import ADMIN_ACCOUNT, DISPLAY_NAMES, AtlassianSimulator
from local.dev_issuer import installation
from tests.support.checks import Checks
from tests.support.harness import NOT_ADMIN, OPERATOR, Api, LambdaContext
from tests.support.state import current_secret

KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
OWNER = "sim-account-ada"  # the token's account
OTHER_ADMIN = "sim-admin-0003"
OTHER_NAME = "Olga Other (simulated)"
# What a closed account leaves behind nowhere: the token owner's and the saving administrator's data.
ERASED = (ADMIN_ACCOUNT, DISPLAY_NAMES[ADMIN_ACCOUNT], OWNER, "Ada Admin", "ada@acme.test")


@pytest.fixture
def sim(simulator: AtlassianSimulator) -> Iterator[AtlassianSimulator]:
    """The simulator with a second administrator; put back afterwards (it serves the whole session)."""
    simulator.add_admin(OTHER_ADMIN)
    simulator.names[OTHER_ADMIN] = OTHER_NAME
    yield simulator
    simulator.admins.discard(OTHER_ADMIN)
    simulator.names.pop(OTHER_ADMIN, None)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """The reporting cycle's clock: tests move it by changing clock[0]."""
    now = [datetime.now(UTC)]
    monkeypatch.setattr(privacy, "utc_now", lambda: now[0])
    return now


def trigger(api: Api, tenant: str = "acme", **kwargs: Any) -> Any:
    """Forge's scheduled trigger: a token without principal, with the app system token."""
    return api.call("personal_data", tenant=tenant, account=None, **kwargs)


def tenant_items(scan: Any, tenant: str) -> list[dict[str, Any]]:
    tenant_id = installation(tenant)["installationId"]
    return [item for item in scan() if item["PK"]["S"].endswith("#" + tenant_id)]


def data_items(scan: Any, tenant: str) -> list[dict[str, Any]]:
    """The tenant's items but its record of held accounts, which a tenant's first cycle back-fills."""
    return [
        {name: value for name, value in item.items() if name != "heldAccountsRecorded"}
        for item in tenant_items(scan, tenant)
        if not item["PK"]["S"].startswith("ACCOUNTS#")
    ]


def set_up_acme(api: Api) -> None:
    """The token saved by the administrator (its owner Ada), the key by another administrator."""
    assert api.call("change_token", body=TOKEN, headers={"Idempotency-Key": "save-token-1"}).status == 200
    assert api.call("change_key", body=KEY, account=OTHER_ADMIN).status == 200
    assert api.call("change_key", body=KEY, account=OTHER_ADMIN).status == 200


def test_a_closed_account_is_erased_from_every_item_answer_and_the_secret(
    api: Api, sim: AtlassianSimulator, table_items: Any
) -> None:
    # Given: acme's token saved by the administrator, its owner Ada; globex's key saved by the same one
    set_up_acme(api)
    assert api.call("change_key", body=KEY, tenant="globex").status == 200
    globex_before = tenant_items(table_items, "globex")
    key_before = api.call("get_info").body["apiKey"]
    tenant_id = installation("acme")["installationId"]
    assert current_secret(tenant_id, "apiToken") is not None
    sim.privacy.closed = {ADMIN_ACCOUNT, OWNER}

    # When
    answer = trigger(api)

    # Then: both accounts reported, both erased
    assert answer.status == 202, answer.body
    assert answer.body == {"due": True, "reported": 3, "closed": 2, "updated": 0, "queued": False}
    assert sorted(sim.privacy.reported_ids()) == sorted([ADMIN_ACCOUNT, OTHER_ADMIN, OWNER])
    for item in tenant_items(table_items, "acme"):
        text = json.dumps(item)
        assert not any(value in text for value in ERASED), text
    info = api.call("get_info", account=OTHER_ADMIN).body
    history = api.call("history", account=OTHER_ADMIN).body
    for shown in (info, history):
        assert not any(value in json.dumps(shown) for value in ERASED)
    assert current_secret(tenant_id, "apiToken") is None
    token = info["apiToken"]
    assert token["status"] == "invalid"
    assert token["email"] is None
    assert token["account"] == {"accountId": "closed-account", "displayName": None}
    assert token["createdBy"] == {"type": "atlassian", "accountId": "closed-account", "displayName": None}
    assert token["lastCheck"]["outcome"] == "rejected"
    assert token["lastCheck"]["detail"] == "api_token_account_closed"
    assert token["maskedValue"] == "••••••••OOD2"
    events = history["events"]
    assert events[0]["actor"] == {"type": "forge"}
    assert (events[0]["action"], events[0]["outcome"], events[0]["code"]) == (
        "checked",
        "rejected",
        "api_token_account_closed",
    )
    # Everything else is as it was: the other credential, the other administrator's events, globex.
    assert info["apiKey"] == key_before
    assert [e["actor"]["accountId"] for e in events[1:]] == [OTHER_ADMIN, OTHER_ADMIN, "closed-account"]
    assert [e["actor"].get("displayName") for e in events[1:3]] == [OTHER_NAME, OTHER_NAME]
    assert events[3]["actor"]["displayName"] is None
    assert not any(item["PK"]["S"].startswith("IDEMPOTENCY#") for item in tenant_items(table_items, "acme"))
    assert tenant_items(table_items, "globex") == globex_before


@pytest.fixture
def owner_erased(api: Api, sim: AtlassianSimulator) -> None:
    """acme set up, then a cycle in which Atlassian answers that the token's owner is closed."""
    set_up_acme(api)
    sim.privacy.closed = {OWNER}
    assert trigger(api).body["closed"] == 1


@pytest.mark.usefixtures("owner_erased")
def test_a_new_token_can_be_saved_after_its_owner_was_erased(api: Api) -> None:
    answer = api.call("change_token", body=TOKEN)

    assert answer.status == 200, answer.body
    assert answer.body["apiToken"]["status"] == "valid"
    tenant_id = installation("acme")["installationId"]
    assert current_secret(tenant_id, "apiToken") == {**TOKEN}


@pytest.mark.usefixtures("owner_erased")
def test_the_rest_of_the_app_reads_no_token_once_its_owner_was_erased() -> None:
    tenant_id = installation("acme")["installationId"]

    assert services().reader.current(tenant_id, API_TOKEN, refresh=True) is None
    assert services().reader.current(tenant_id, API_KEY, refresh=True) is not None


@pytest.mark.usefixtures("owner_erased")
def test_the_check_leaves_an_erased_token_invalid_and_reads_no_secret(api: Api) -> None:
    answer = api.call("check_now", account=OTHER_ADMIN)

    assert answer.status == 200, answer.body
    assert answer.body["apiToken"]["status"] == "invalid"
    assert answer.body["apiToken"]["lastCheck"]["detail"] == "api_token_account_closed"
    assert answer.body["apiKey"]["status"] == "valid"


@pytest.mark.usefixtures("owner_erased")
def test_the_next_check_tells_the_app_once_that_the_erased_token_became_invalid(checks: Checks) -> None:
    assert checks.events() == []  # the cycle itself publishes nothing

    checks.run("acme")
    checks.run("acme")

    (event,) = checks.events()
    assert event["detail"]["credential"] == "apiToken"
    assert (event["detail"]["previousStatus"], event["detail"]["status"]) == ("valid", "invalid")
    assert event["detail"]["lastCheck"]["detail"] == "api_token_account_closed"
    assert not set(ERASED) & set(json.dumps(event).split('"'))


def test_an_updated_account_is_shown_by_its_new_name(api: Api, sim: AtlassianSimulator) -> None:
    set_up_acme(api)
    sim.privacy.updated = {ADMIN_ACCOUNT: "Sam Renamed (simulated)", OWNER: "Ada Renamed"}

    answer = trigger(api)

    assert answer.body == {"due": True, "reported": 3, "closed": 0, "updated": 2, "queued": False}
    info = api.call("get_info").body
    assert info["apiToken"]["createdBy"]["displayName"] == "Sam Renamed (simulated)"
    assert info["apiToken"]["account"] == {"accountId": OWNER, "displayName": "Ada Renamed"}
    assert info["apiToken"]["status"] == "valid"
    assert info["apiToken"]["email"] == "ada@acme.test"
    events = api.call("history").body["events"]
    names = {e["actor"]["accountId"]: e["actor"]["displayName"] for e in events}
    assert names == {ADMIN_ACCOUNT: "Sam Renamed (simulated)", OTHER_ADMIN: OTHER_NAME}


def test_batches_never_exceed_90_accounts(api: Api, sim: AtlassianSimulator, table_items: Any) -> None:
    api.call("change_key", body=KEY)
    add_history_actors(200)

    answer = trigger(api)

    assert answer.status == 202
    assert answer.body["reported"] == 201
    assert [len(batch) for batch in sim.privacy.received] == [90, 90, 21]
    assert len(set(sim.privacy.reported_ids())) == 201


def test_a_second_trigger_within_the_period_reports_nothing(
    api: Api, sim: AtlassianSimulator, clock: list[datetime]
) -> None:
    set_up_acme(api)
    assert trigger(api).body["reported"] == 3

    clock[0] += timedelta(days=6, hours=23)
    again = trigger(api)

    assert again.status == 202
    assert again.body == {"due": False, "reported": 0, "closed": 0, "updated": 0, "queued": False}
    assert len(sim.privacy.received) == 1
    clock[0] += timedelta(hours=1)
    assert trigger(api).body["reported"] == 3  # a week on, the next cycle


def test_the_cycle_period_atlassian_answers_with_is_honoured(
    api: Api, sim: AtlassianSimulator, clock: list[datetime]
) -> None:
    set_up_acme(api)
    sim.privacy.cycle_period = "2"
    trigger(api)

    clock[0] += timedelta(days=1)
    assert trigger(api).body["reported"] == 0
    clock[0] += timedelta(days=1)
    assert trigger(api).body["reported"] == 3


def test_a_429_stops_the_cycle_and_the_rest_waits_for_retry_after(
    api: Api, sim: AtlassianSimulator, table_items: Any, clock: list[datetime]
) -> None:
    api.call("change_key", body=KEY)
    add_history_actors(100)
    sim.privacy.behaviour, sim.privacy.trouble_after = "rate_limited", 1

    answer = trigger(api)

    assert answer.status == 503
    assert answer.body["error"]["code"] == "atlassian_unavailable"
    assert answer.headers["retry-after"] == "7"
    assert [len(batch) for batch in sim.privacy.received] == [90]
    first = set(sim.privacy.reported_ids())
    sim.privacy.behaviour = "ok"
    assert trigger(api).body["due"] is False  # within Retry-After
    clock[0] += timedelta(seconds=8)
    rest = trigger(api)
    assert rest.body["reported"] == 11
    assert not first & set(sim.privacy.received[-1][i]["accountId"] for i in range(11))


def test_a_500_stops_the_cycle_and_changes_nothing(
    api: Api, sim: AtlassianSimulator, table_items: Any
) -> None:
    set_up_acme(api)
    before = data_items(table_items, "acme")
    sim.privacy.closed = {OWNER}
    sim.privacy.behaviour = "error"

    answer = trigger(api)

    assert answer.status == 502
    assert answer.body["error"]["code"] == "atlassian_error"
    assert data_items(table_items, "acme") == before


def test_a_user_who_is_not_an_administrator_is_refused_and_nothing_is_reported(
    api: Api, sim: AtlassianSimulator
) -> None:
    set_up_acme(api)
    sim.privacy.closed = {OWNER}

    answer = api.call("personal_data", account=NOT_ADMIN)

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"
    assert sim.privacy.received == []
    assert api.call("get_info").body["apiToken"]["status"] == "valid"


def test_a_user_with_a_system_token_jira_refuses_is_refused_and_nothing_is_reported(
    api: Api, sim: AtlassianSimulator
) -> None:
    # Given a closed account to report, and a user whose app system token Jira refuses (401)
    set_up_acme(api)
    sim.privacy.closed = {OWNER}

    # When that user starts the cycle (the uninstall's "the app is gone" rule is the uninstall's alone)
    answer = api.call("personal_data", account=NOT_ADMIN, headers={"x-forge-oauth-system": "bogus"})

    # Then it is refused and nothing is reported or erased
    assert (answer.status, answer.body["error"]["code"]) == (403, "forbidden")
    assert sim.privacy.received == []
    assert api.call("get_info").body["apiToken"]["status"] == "valid"


def test_an_administrator_may_start_the_cycle_and_a_call_without_system_token_is_refused(
    api: Api, sim: AtlassianSimulator
) -> None:
    set_up_acme(api)

    refused = trigger(api, headers={"x-forge-oauth-system": None})
    assert refused.status == 403
    assert sim.privacy.received == []

    assert api.call("personal_data").status == 202
    assert len(sim.privacy.received) == 1


def test_an_operator_erases_a_closed_account_without_reporting(
    api: Api, sim: AtlassianSimulator, table_items: Any
) -> None:
    set_up_acme(api)

    answer = api.call("ops_personal_data", operator=OPERATOR, body={"accountId": OWNER, "status": "closed"})

    assert answer.status == 202, answer.body
    assert answer.body == {"due": False, "reported": 0, "closed": 1, "updated": 0, "queued": False}
    assert sim.privacy.received == []
    token = api.call("get_info").body["apiToken"]
    assert token["status"] == "invalid"
    assert token["email"] is None
    assert not any("ada@acme.test" in json.dumps(item) for item in tenant_items(table_items, "acme"))


def test_an_operator_marks_an_updated_account_due_for_the_next_trigger(
    api: Api, sim: AtlassianSimulator
) -> None:
    set_up_acme(api)
    trigger(api)
    assert trigger(api).body["due"] is False

    answer = api.call(
        "ops_personal_data", operator=OPERATOR, body={"accountId": ADMIN_ACCOUNT, "status": "updated"}
    )

    assert answer.status == 202
    again = trigger(api)
    assert again.body["reported"] == 1
    assert sim.privacy.received[-1][0]["accountId"] == ADMIN_ACCOUNT


@pytest.mark.parametrize(
    "body",
    [
        {"accountId": OWNER},
        {"accountId": OWNER, "status": "deleted"},
        {"accountId": "", "status": "closed"},
        {"accountId": OWNER, "status": "closed", "email": "ada@acme.test"},
    ],
)
def test_the_operator_route_refuses_a_bad_body_and_changes_nothing(
    api: Api, sim: AtlassianSimulator, table_items: Any, body: dict[str, str]
) -> None:
    set_up_acme(api)
    before = tenant_items(table_items, "acme")

    answer = api.call("ops_personal_data", operator=OPERATOR, body=body)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_error"
    assert tenant_items(table_items, "acme") == before


def test_the_operator_route_answers_404_for_an_unknown_installation(api: Api) -> None:
    answer = api.call(
        "ops_personal_data",
        operator=OPERATOR,
        ops_tenant="ari:cloud:ecosystem::installation/00000000-0000-4000-8000-000000000000",
        body={"accountId": OWNER, "status": "closed"},
    )

    assert answer.status == 404


def test_an_installation_never_seen_holds_nothing_to_report(api: Api, sim: AtlassianSimulator) -> None:
    answer = trigger(api, tenant="initech")

    assert answer.status == 202
    assert answer.body["due"] is False
    assert sim.privacy.received == []


def test_a_long_history_is_rewritten_by_the_check_worker(
    api: Api, sim: AtlassianSimulator, checks: Checks, table_items: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a history "long" enough to be queued
    monkeypatch.setattr(privacy, "LARGE_HISTORY", 2)
    set_up_acme(api)
    sim.privacy.closed = {ADMIN_ACCOUNT}
    sim.privacy.updated = {OTHER_ADMIN: "Olga Renamed"}

    # When the trigger runs
    answer = trigger(api)

    # Then the credential items are done at once, the history is left to the worker
    assert answer.body == {"due": True, "reported": 3, "closed": 1, "updated": 1, "queued": True}
    assert any("personalDataPendingNames" in item for item in table_items())
    assert api.call("get_info").body["apiKey"]["createdBy"]["displayName"] == "Olga Renamed"
    actors = {e["actor"]["accountId"] for e in api.call("history", account=OTHER_ADMIN).body["events"]}
    assert ADMIN_ACCOUNT in actors
    # (the closed account's erasure first, before any name is looked up; then the names found)
    messages = checks.receive()
    tenant_id = installation("acme")["installationId"]
    assert sorted((json.loads(m["Body"]) for m in messages), key=lambda b: b["updated"]) == [
        {"kind": "personal-data", "tenantId": tenant_id, "closed": [ADMIN_ACCOUNT], "updated": []},
        {"kind": "personal-data", "tenantId": tenant_id, "closed": [], "updated": [OTHER_ADMIN]},
    ]
    assert checks.work(messages) == {"batchItemFailures": []}
    events = api.call("history", account=OTHER_ADMIN).body["events"]
    assert {e["actor"]["accountId"] for e in events} == {"closed-account", OTHER_ADMIN}
    assert {e["actor"]["displayName"] for e in events} == {None, "Olga Renamed"}
    assert not any("personalDataPendingNames" in item for item in table_items())  # the names went


def add_history_actors(count: int) -> None:
    """`count` more administrators in acme's history, written straight into the table."""
    tenant_id = installation("acme")["installationId"]
    events = [
        PendingEvent(
            tenant_id,
            HistoryEvent.from_item(
                {
                    "at": "2026-01-01T00:00:00Z",
                    "actor": {"type": "atlassian", "accountId": f"sim-admin-h{i:03}", "displayName": None},
                    "credential": "apiKey",
                    "action": "checked",
                    "outcome": "succeeded",
                }
            ),
        )
        for i in range(count)
    ]
    services().history.add_events(events)


# --- the time budget and the record of held accounts (issue 25, point 5) ------------------------


class Killed(BaseException):
    """Lambda stopping the function at its timeout: nothing catches it, nothing after it runs."""


def slow_atlassian(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every Atlassian call takes 2 s of the invocation's 15 s, on a clock of its own (no real waiting):
    the Lambda context's remaining time runs down with it, and a call past 15 s kills the function."""
    used = [0.0]
    send = Transport.send

    def slow_send(self: Transport, *args: Any, **kwargs: Any) -> Any:
        used[0] += 2.0
        if used[0] > 15.0:
            raise Killed()
        return send(self, *args, **kwargs)

    monkeypatch.setattr(Transport, "send", slow_send)
    monkeypatch.setattr(LambdaContext, "get_remaining_time_in_millis", lambda _: int((15.0 - used[0]) * 1000))
    return used


def test_a_slow_atlassian_cannot_keep_a_closed_account_from_being_erased(
    api: Api, sim: AtlassianSimulator, clock: list[datetime], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 203 accounts to report, the token's owner closed, every other account updated
    set_up_acme(api)
    add_history_actors(200)
    sim.privacy.closed = {OWNER}
    sim.privacy.updated = {f"sim-admin-h{i:03}": f"Renamed {i}" for i in range(200)}

    # When the trigger runs with an Atlassian that takes 2 s a call
    used = slow_atlassian(monkeypatch)
    try:
        answer = trigger(api)
    except Killed:
        answer = None

    # Then it ends before Lambda's timeout, having reported every batch and erased the closed owner
    assert answer is not None and answer.status == 202, "the cycle ran into Lambda's timeout"
    assert answer.body["reported"] == 203
    assert answer.body["closed"] == 1
    assert 0 < answer.body["updated"] < 200  # the names looked up in the time that was left
    assert api.call("get_info", account=OTHER_ADMIN).body["apiToken"]["status"] == "invalid"
    assert [len(batch) for batch in sim.privacy.received] == [90, 90, 23]

    # And the next day's trigger reports none of them again within the cycle period
    used[0] = 0.0
    clock[0] += timedelta(days=1)
    assert trigger(api).body == {"due": False, "reported": 0, "closed": 0, "updated": 0, "queued": False}


def test_a_cycle_with_little_time_left_leaves_the_rest_for_the_next_trigger(
    api: Api, sim: AtlassianSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given 201 accounts to report, and time for two reports only before the reserve
    api.call("change_key", body=KEY)
    add_history_actors(200)
    used = slow_atlassian(monkeypatch)
    used[0] = 15.0 - privacy.RESERVE_SECONDS - 4.0

    # When the trigger runs
    first = trigger(api)

    # Then two batches are reported and recorded, the third waits
    assert first.body["reported"] == 180
    used[0] = 0.0
    second = trigger(api)
    assert second.body["reported"] == 21
    assert len(set(sim.privacy.reported_ids())) == 201  # no account was reported twice


def test_a_trigger_with_nothing_due_reads_no_history(api: Api, sim: AtlassianSimulator) -> None:
    # Given a tenant whose accounts were all reported today
    set_up_acme(api)
    add_history_actors(50)
    assert trigger(api).body["reported"] == 53
    partitions = queried_partitions()

    # When the next trigger finds nothing due
    answer = trigger(api)

    # Then it read nothing of the history
    assert answer.body["due"] is False
    assert partitions, "no Query was seen"
    assert not [pk for pk in partitions if pk.startswith("HISTORY#")]


def test_an_account_written_after_the_record_began_is_reported_without_reading_the_history(
    api: Api, sim: AtlassianSimulator
) -> None:
    # Given a tenant whose accounts were reported today
    set_up_acme(api)
    trigger(api)

    # When an administrator never seen before checks the credentials (a history event with their account)
    sim.add_admin("sim-admin-0009")
    assert api.call("check_now", account="sim-admin-0009").status == 200
    partitions = queried_partitions()
    answer = trigger(api)

    # Then the next trigger reports that account alone, from the record of held accounts
    assert answer.body["reported"] == 1
    assert sim.privacy.received[-1] == [{"accountId": "sim-admin-0009", "updatedAt": ANY_TIME}]
    assert not [pk for pk in partitions if pk.startswith("HISTORY#")]
    sim.admins.discard("sim-admin-0009")


def test_a_tenant_recorded_before_the_record_was_kept_is_back_filled_on_first_use(
    api: Api, sim: AtlassianSimulator, table_items: Any
) -> None:
    # Given a tenant as an earlier version left it: history actors, no record of held accounts
    set_up_acme(api)
    add_history_actors(30)
    tenant_id = installation("acme")["installationId"]
    client = boto3.client("dynamodb")
    for item in tenant_items(table_items, "acme"):
        if item["PK"]["S"].startswith("ACCOUNTS#"):
            client.delete_item(
                TableName=services().settings.table_name, Key={"PK": item["PK"], "SK": item["SK"]}
            )
    assert not [i for i in tenant_items(table_items, "acme") if i["PK"]["S"].startswith("ACCOUNTS#")]

    # When its first cycle runs
    answer = trigger(api)

    # Then every account of its history is reported, and recorded for the next cycles
    assert answer.body["reported"] == 33
    recorded = {
        i["SK"]["S"] for i in tenant_items(table_items, "acme") if i["PK"]["S"] == f"ACCOUNTS#{tenant_id}"
    }
    assert recorded >= {f"sim-admin-h{i:03}" for i in range(30)} | {ADMIN_ACCOUNT, OTHER_ADMIN}


class _AnyTime(str):
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and len(other) == 20 and other.endswith("Z")

    __hash__ = str.__hash__


ANY_TIME = _AnyTime()


def queried_partitions() -> list[str]:
    """The partitions the service's DynamoDB client queries from now on (a list that fills up)."""
    seen: list[str] = []

    def note(params: dict[str, Any], **_: Any) -> None:
        seen.append(params["ExpressionAttributeValues"][":pk"]["S"])

    services().tenants.dynamodb.meta.events.register("provide-client-params.dynamodb.Query", note)
    return seen
