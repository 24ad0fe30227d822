"""The audit trail, removing a credential, and forgetting an uninstalled site."""

from __future__ import annotations

import boto3
import pytest

from api_info.credentials import API_KEY
from api_info.credentials.ref import CredentialRef
from api_info.wiring import services
from tests.support.checks import Checks
from tests.support.harness import Api
from tests.support.state import current_secret, ref, tenant_secrets

KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}


def tenant_id(api: Api, tenant: str = "acme") -> str:
    return str(api.call("get_info", tenant=tenant).body["tenant"]["installationId"])


def test_history_lists_every_attempt_newest_first_with_actor_outcome_code_and_mask(api: Api) -> None:
    api.call("change_key", body=KEY)
    api.call("change_key", body={"apiKey": "sim-admin-key-scoped-SCOP1"})
    api.call("change_token", body=TOKEN)
    api.call("change_key", body={"apiKey": "sim-admin-key-error-ERR5"})
    api.call("delete_token")

    answer = api.call("history")

    assert answer.status == 200
    events = answer.body["events"]
    assert [(e["credential"], e["action"], e["outcome"], e["code"]) for e in events] == [
        ("apiToken", "deleted", "succeeded", None),
        ("apiKey", "changed", "failed", "atlassian_error"),
        ("apiToken", "changed", "succeeded", None),
        ("apiKey", "changed", "rejected", "api_key_has_scopes"),
        ("apiKey", "changed", "succeeded", None),
    ]
    assert events[-1]["maskedValue"] == "••••••••OOD1"
    # A succeeded change names its administrator as Jira does; the refused one, which looks nobody
    # up, by the name the service learnt with the first.
    admin = {"type": "atlassian", "accountId": "sim-admin-0001", "displayName": "Sam Admin (simulated)"}
    assert events[-1]["actor"] == admin
    assert events[-2]["actor"] == admin
    assert all(e["at"].endswith("Z") for e in events)
    assert answer.body["nextCursor"] is None


def test_history_pages_with_an_opaque_cursor(api: Api) -> None:
    for _ in range(5):
        api.call("change_key", body=KEY)

    first = api.call("history", query={"limit": "2"}).body
    second = api.call("history", query={"limit": "2", "cursor": first["nextCursor"]}).body
    third = api.call("history", query={"limit": "2", "cursor": second["nextCursor"]}).body

    seen = [e["at"] for page in (first, second, third) for e in page["events"]]
    assert len(seen) == 5 and seen == sorted(seen, reverse=True)
    assert third["nextCursor"] is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "101"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "bogus"}, "cursor"),
    ],
)
def test_history_refuses_bad_paging(api: Api, query: dict[str, str], field: str) -> None:
    answer = api.call("history", query=query)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_error"
    assert [d["field"] for d in answer.body["error"]["details"]] == [field]


def test_a_cursor_never_reaches_into_another_tenant(api: Api) -> None:
    for _ in range(3):
        api.call("change_key", body=KEY, tenant="acme")
    cursor = api.call("history", query={"limit": "1"}, tenant="acme").body["nextCursor"]

    other = api.call("history", query={"limit": "10", "cursor": cursor}, tenant="globex")

    assert other.status == 200
    assert other.body["events"] == []


def test_deleting_the_key_removes_it_and_schedules_its_secret_for_deletion(api: Api) -> None:
    api.call("change_key", body=KEY)
    api.call("change_token", body=TOKEN)

    answer = api.call("delete_key")

    assert answer.status == 200
    assert answer.body == {"apiKey": api.call("get_info").body["apiKey"]}
    assert answer.body["apiKey"]["status"] == "not_configured"
    assert api.call("get_info").body["apiToken"]["status"] == "valid"
    (name,) = tenant_secrets(tenant_id(api), "apiKey")
    assert "DeletedDate" in boto3.client("secretsmanager").describe_secret(SecretId=name)
    assert services().reader.current(tenant_id(api), API_KEY, refresh=True) is None


def test_deleting_what_is_not_there_is_harmless_and_recorded(api: Api) -> None:
    # Given the page was opened (the tenant is known) and no token was ever saved
    api.call("get_info")

    # When the token is deleted
    answer = api.call("delete_token")

    # Then nothing changes, and the history still records the delete, as it records every one
    assert (answer.status, answer.body["apiToken"]["status"]) == (200, "not_configured")
    events = api.call("history").body["events"]
    assert [(e["credential"], e["action"], e["outcome"], e["code"], e["maskedValue"]) for e in events] == [
        ("apiToken", "deleted", "succeeded", None, None)
    ]


def test_a_deleted_key_can_be_saved_again(api: Api) -> None:
    api.call("change_key", body=KEY)
    api.call("delete_key")

    again = api.call("change_key", body=KEY)

    assert again.status == 200
    assert current_secret(tenant_id(api), "apiKey") == KEY


def test_only_administrators_may_delete(api: Api) -> None:
    api.call("change_key", body=KEY)

    assert api.call("delete_key", account="sim-user-0002").status == 403
    assert api.call("get_info").body["apiKey"]["status"] == "valid"


def test_uninstall_forgets_everything_of_that_site_only(api: Api, aws: dict[str, str]) -> None:
    for tenant in ("acme", "globex"):
        api.call("change_key", body=KEY, tenant=tenant)
        api.call("change_token", body=TOKEN, tenant=tenant)
    acme = tenant_id(api, "acme")

    answer = api.call("uninstalled", tenant="acme", account=None)

    assert answer.status == 204
    items = boto3.client("dynamodb").scan(TableName=aws["TABLE_NAME"])["Items"]
    assert not [i for i in items if acme in i["PK"]["S"]]
    assert [i for i in items if tenant_id(api, "globex") in i["PK"]["S"]]
    secrets = boto3.client("secretsmanager")
    for credential in ("apiKey", "apiToken"):
        (name,) = tenant_secrets(acme, credential)
        assert "DeletedDate" in secrets.describe_secret(SecretId=name)
    assert api.call("get_info", tenant="globex").body["apiKey"]["status"] == "valid"


def test_an_uninstalled_site_can_install_again_cleanly(api: Api) -> None:
    api.call("change_key", body=KEY)
    api.call("uninstalled", account=None)

    fresh = api.call("get_info").body

    assert fresh["apiKey"]["status"] == fresh["apiToken"]["status"] == "not_configured"
    assert api.call("history").body["events"] == []
    assert api.call("change_key", body=KEY).status == 200


def test_uninstall_needs_a_valid_forge_token(api: Api) -> None:
    assert api.call("uninstalled", token="forged").status == 401


def uninstall_before(api: Api, monkeypatch: pytest.MonkeyPatch, owner: object, method: str) -> None:
    """Make `owner.method` first uninstall the app, as a Forge lifecycle event landing just then would."""
    original = getattr(owner, method)

    def uninstalled_meanwhile(*args: object, **kwargs: object) -> object:
        assert api.call("uninstalled", account=None).status == 204
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, method, uninstalled_meanwhile)


def items_of(aws: dict[str, str], tenant: str) -> list[dict[str, object]]:
    return [
        i
        for i in boto3.client("dynamodb").scan(TableName=aws["TABLE_NAME"])["Items"]
        if tenant in i["PK"]["S"]
    ]


def test_a_change_refused_while_the_app_is_uninstalled_is_still_answered_422(
    api: Api, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = tenant_id(api)
    uninstall_before(api, monkeypatch, API_KEY, "validate")

    answer = api.call("change_key", body={"apiKey": "sim-admin-key-wrong-XXXX"})

    assert (answer.status, answer.body["error"]["code"]) == (422, "api_key_invalid")
    assert items_of(aws, acme) == []  # nothing written after the uninstall


def test_a_first_save_overtaken_by_the_uninstall_leaves_no_secret_behind(
    api: Api, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = tenant_id(api)
    uninstall_before(api, monkeypatch, API_KEY, "validate")

    answer = api.call("change_key", body=KEY)

    assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress")
    assert items_of(aws, acme) == []
    assert tenant_secrets(acme) == {}  # deleted at once: it was never committed


def test_a_delete_overtaken_by_the_uninstall_answers_that_the_credential_is_gone(
    api: Api, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api.call("change_key", body=KEY)
    acme = tenant_id(api)
    uninstall_before(api, monkeypatch, services().records, "delete")  # after the lock is taken

    answer = api.call("delete_key")

    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == "not_configured"
    assert items_of(aws, acme) == []


def test_a_check_now_overtaken_by_the_uninstall_leaves_nothing_behind(
    api: Api, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stored key, and an uninstall landing while Atlassian is asked about it
    api.call("change_key", body=KEY)
    acme = tenant_id(api)
    uninstall_before(api, monkeypatch, API_KEY, "validate")

    # When the administrator checks now
    answer = api.call("check_now")

    # Then the answer shows what is held (nothing), and no history or tenant item came back: the
    # scheduler would otherwise check the uninstalled site every day
    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == answer.body["apiToken"]["status"] == "not_configured"
    assert items_of(aws, acme) == []


def test_a_scheduled_check_overtaken_by_the_uninstall_leaves_nothing_behind(
    api: Api, aws: dict[str, str], checks: Checks, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.call("change_key", body=KEY)
    api.call("change_token", body=TOKEN)
    acme = tenant_id(api)
    uninstall_before(api, monkeypatch, API_KEY, "validate")

    assert checks.run("acme") == {"batchItemFailures": []}

    assert items_of(aws, acme) == []


def another_change_holds(api: Api, credential: str) -> str:
    """Take the credential's change lock as another change under way would; returns that change's id."""
    services().records.acquire_lock(ref(tenant_id(api), credential), "another-change")
    return "another-change"


def lock_owner(aws: dict[str, str], tenant: str, credential: str) -> str | None:
    item = boto3.client("dynamodb").get_item(
        TableName=aws["TABLE_NAME"], Key={"PK": {"S": f"TENANT#{tenant}"}, "SK": {"S": f"CRED#{credential}"}}
    )["Item"]
    return item["lockId"]["S"] if "lockId" in item else None


@pytest.mark.parametrize(
    ("sample", "body", "credential", "masked"),
    [
        ("change_key", {"apiKey": "sim-admin-key-second-KEY2"}, "apiKey", "••••••••KEY2"),
        ("change_token", TOKEN, "apiToken", "••••••••OOD2"),
    ],
)
def test_a_change_refused_because_another_is_under_way_is_recorded_and_leaves_its_lock(
    api: Api, aws: dict[str, str], sample: str, body: dict[str, str], credential: str, masked: str
) -> None:
    # Given another change of the credential under way
    other = another_change_holds(api, credential)

    # When a change of it is asked for
    answer = api.call(sample, body=body)

    # Then it is refused, the history says so, and the other change still holds its lock
    assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress")
    events = api.call("history").body["events"]
    assert [(e["credential"], e["action"], e["outcome"], e["code"], e["maskedValue"]) for e in events] == [
        (credential, "changed", "failed", "change_in_progress", masked)
    ]
    assert lock_owner(aws, tenant_id(api), credential) == other


def test_a_delete_refused_because_a_change_is_under_way_is_recorded_and_leaves_its_lock(
    api: Api, aws: dict[str, str]
) -> None:
    api.call("change_key", body=KEY)
    other = another_change_holds(api, "apiKey")

    answer = api.call("delete_key")

    assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress")
    assert api.call("get_info").body["apiKey"]["status"] == "valid"
    latest = api.call("history").body["events"][0]
    assert (latest["action"], latest["outcome"], latest["code"], latest["maskedValue"]) == (
        "deleted",
        "failed",
        "change_in_progress",
        "••••••••OOD1",
    )
    assert lock_owner(aws, tenant_id(api), "apiKey") == other


@pytest.mark.parametrize(("sample", "body"), [("change_key", KEY), ("delete_key", None)])
def test_a_refusal_while_the_app_is_uninstalled_leaves_no_history_behind(
    api: Api, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch, sample: str, body: object
) -> None:
    # Given another change under way, and an uninstall landing just after this request found it so
    another_change_holds(api, "apiKey")
    acme = tenant_id(api)
    records = services().records
    refuse = records.acquire_lock

    def refused_then_uninstalled(*args: object, **kwargs: object) -> object:
        try:
            return refuse(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            assert api.call("uninstalled", account=None).status == 204

    monkeypatch.setattr(records, "acquire_lock", refused_then_uninstalled)

    answer = api.call(sample, body=body)

    # Then the request is still refused, and nothing of the uninstalled installation comes back
    assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress")
    assert items_of(aws, acme) == []


def test_a_change_whose_lock_another_took_meanwhile_is_recorded(
    api: Api, aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stored key, and a change that takes so long its lock expires and another change takes it
    api.call("change_key", body=KEY)
    secrets = services().secrets
    create = secrets.create

    def lock_taken_meanwhile(name: str, ref: CredentialRef, *args: object, **kwargs: object) -> None:
        boto3.client("dynamodb").update_item(
            TableName=aws["TABLE_NAME"],
            Key={"PK": {"S": f"TENANT#{ref.tenant_id}"}, "SK": {"S": f"CRED#{ref.kind.name}"}},
            UpdateExpression="SET lockId = :other",
            ExpressionAttributeValues={":other": {"S": "another-change"}},
        )
        create(name, ref, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(secrets, "create", lock_taken_meanwhile)

    # When it comes to commit
    answer = api.call("change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1"})

    # Then it is refused and recorded, and the stored key is the one before
    assert (answer.status, answer.body["error"]["code"]) == (409, "change_in_progress")
    latest = api.call("history").body["events"][0]
    assert (latest["outcome"], latest["code"]) == ("failed", "change_in_progress")
    assert lock_owner(aws, tenant_id(api), "apiKey") == "another-change"
    assert current_secret(tenant_id(api), "apiKey") == KEY
