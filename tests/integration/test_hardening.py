"""What a hostile or careless caller found in a review by hand, each held to the contract's answer.

Who may uninstall, tokens and bodies the parsers choke on, a cached administrator answer without a
system token, Idempotency-Key replays after an uninstall, a renamed site, media types written in
capitals, URL claims with control characters, a token without its site, short values in the history.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from local.dev_issuer import installation
from tests.support.harness import ADMIN, NOT_ADMIN, SYSTEM_TOKEN, Api

GOOD_KEY = {"apiKey": "sim-admin-key-unscoped-GOOD1"}
GOOD_TOKEN = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}
SYSTEM = {"x-forge-oauth-system": SYSTEM_TOKEN}


def saved(api: Api) -> None:
    assert api.call("change_key", body=GOOD_KEY).status == 200
    assert api.call("change_token", body=GOOD_TOKEN).status == 200


def statuses(api: Api) -> tuple[str, str]:
    info = api.call("get_info").body
    return info["apiKey"]["status"], info["apiToken"]["status"]


def items_of(aws: dict[str, str], tenant: str = "acme") -> list[dict[str, Any]]:
    tenant_id = installation(tenant)["installationId"]
    items = boto3.client("dynamodb").scan(TableName=aws["TABLE_NAME"])["Items"]
    return [item for item in items if item["PK"]["S"].endswith("#" + tenant_id)]


# --- who may uninstall --------------------------------------------------------------------------


def test_a_jira_user_who_is_not_an_administrator_cannot_uninstall(api: Api) -> None:
    # Given a configured site
    saved(api)

    # When a user sends the lifecycle call from the app (invokeRemote), with the app's system token
    answer = api.call("uninstalled", account=NOT_ADMIN, headers=SYSTEM)

    # Then it is refused and nothing is gone
    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"
    assert statuses(api) == ("valid", "valid")
    assert len(api.call("history").body["events"]) == 2


def test_a_user_token_without_the_system_token_cannot_uninstall_even_an_administrators(api: Api) -> None:
    saved(api)

    answer = api.call("uninstalled", account=ADMIN)  # no x-forge-oauth-system

    assert answer.status == 403
    assert statuses(api) == ("valid", "valid")


def test_an_administrator_may_uninstall_from_the_app(api: Api) -> None:
    saved(api)

    assert api.call("uninstalled", account=ADMIN, headers=SYSTEM).status == 204

    assert statuses(api) == ("not_configured", "not_configured")


def test_a_user_uninstall_goes_through_when_jira_refuses_the_app_itself(api: Api) -> None:
    # Jira answers 401 to the app's own system token: the app is no longer installed on that site.
    saved(api)

    answer = api.call("uninstalled", account=ADMIN, headers={"x-forge-oauth-system": "revoked-system-token"})

    assert answer.status == 204
    assert statuses(api) == ("not_configured", "not_configured")


def test_forges_lifecycle_trigger_without_a_user_still_uninstalls(api: Api) -> None:
    saved(api)

    assert api.call("uninstalled", account=None).status == 204

    assert statuses(api) == ("not_configured", "not_configured")


# --- bodies on routes that take none ----------------------------------------------------------


@pytest.mark.parametrize("raw", ["[[[", "garbage", "[1, 2]", "null", '"a string"', "{"])
def test_an_uninstall_whose_body_is_not_a_json_object_is_400_and_deletes_nothing(api: Api, raw: str) -> None:
    # Given a configured site
    saved(api)

    # When Forge's lifecycle call arrives with a body that is not a JSON object
    answer = api.call("uninstalled", account=None, raw_body=raw)

    # Then it is refused and everything is still there
    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "bad_request"
    assert statuses(api) == ("valid", "valid")
    assert len(api.call("history").body["events"]) == 2


@pytest.mark.parametrize("sample", ["check_now", "get_info", "history", "delete_key", "personal_data"])
def test_a_body_that_is_not_a_json_object_is_400_on_a_route_that_takes_none(api: Api, sample: str) -> None:
    saved(api)

    answer = api.call(
        sample,
        raw_body="garbage",
        account=None if sample == "personal_data" else ADMIN,  # Forge's scheduled trigger has no user
        headers={"Content-Type": "application/json"},
    )

    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "bad_request"
    assert statuses(api) == ("valid", "valid")
    assert len(api.call("history").body["events"]) == 2  # no check, no delete


def test_a_json_object_on_a_route_that_takes_none_is_accepted(api: Api) -> None:
    assert api.call("check_now", raw_body="{}").status == 200
    assert (
        api.call("uninstalled", account=None, raw_body=' {"eventType": "avi:forge:uninstalled:app"} ').status
        == 204
    )


# --- the administrator check's cache ------------------------------------------------------------


def test_a_cached_administrator_answer_does_not_stand_in_for_the_system_token(api: Api) -> None:
    assert api.call("get_info").status == 200  # Jira said yes: cached for 60 s

    answer = api.call("get_info", headers={"x-forge-oauth-system": None})

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"


# --- tokens and bodies the parsers choke on -----------------------------------------------------


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


@pytest.mark.parametrize("sample", ["get_info", "change_key", "history", "check_now", "uninstalled"])
def test_a_token_header_of_deeply_nested_json_is_401(api: Api, sample: str) -> None:
    header = b64(("[" * 2000 + "]" * 2000).encode())
    token = f"{header}.{b64(b'{}')}.{b64(b'signature')}"

    answer = api.call(sample, token=token, body=GOOD_KEY if sample == "change_key" else None)

    assert answer.status == 401, answer.body
    assert answer.body["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 1000 + "]" * 1000,
        '{"apiKey": "sim-admin-key-unscoped-GOOD1", "x": ' + "[" * 1000 + "]" * 1000 + "}",
        '{"apiKey": "sim-admin-key-unscoped-GOOD1", "x": ' + "[" * 33 + "]" * 33 + "}",
        '{"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": ' + "9" * 5000 + "}",
        '{"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": ' + "1" * 101 + "}",
        '{"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": 1.' + "5" * 200 + "}",
    ],
    ids=["1000 deep", "1000 deep inside", "33 deep", "5000 digits", "101 digits", "201-digit decimal"],
)
def test_a_body_nested_too_deep_or_with_a_huge_number_is_400_and_changes_nothing(
    api: Api, aws: dict[str, str], raw: str
) -> None:
    answer = api.call("change_key", raw_body=raw)

    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "bad_request"
    assert statuses(api) == ("not_configured", "not_configured")
    assert api.call("history").body["events"] == []


def test_a_body_within_the_limits_is_parsed_as_usual(api: Api) -> None:
    nested = "[" * 31 + "]" * 31
    number = "1" * 100
    answer = api.call("change_key", raw_body=f'{{"apiKey": "x", "a": {nested}, "expiresOn": {number}}}')

    assert answer.status == 422  # parsed, then refused field by field
    assert {d["field"] for d in answer.body["error"]["details"]} == {"a", "expiresOn"}


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "Application/Json; charset=UTF-8"])
def test_media_types_are_matched_case_insensitively(api: Api, content_type: str) -> None:
    answer = api.call("change_key", body=GOOD_KEY, headers={"Content-Type": content_type})

    assert answer.status == 200, answer.body
    assert answer.body["apiKey"]["status"] == "valid"


@pytest.mark.parametrize(
    ("sample", "kwargs", "status"),
    [
        ("get_info", {}, 200),
        ("change_key", {"body": GOOD_KEY}, 200),
        ("personal_data", {"account": None}, 202),
        ("change_key", {"body": {"apiKey": ""}}, 422),  # the resolver's validation
        ("history", {"query": {"cursor": "not-a-cursor"}}, 422),  # raised by the route
        ("get_info", {"account": NOT_ADMIN}, 403),  # refused before any route runs
        ("change_key", {"raw_body": "[1]"}, 400),
    ],
    ids=["200", "200 change", "202", "422 validation", "422 route", "403 gate", "400"],
)
def test_every_json_answer_says_it_is_utf_8(
    api: Api, sample: str, kwargs: dict[str, Any], status: int
) -> None:
    answer = api.call(sample, **kwargs)

    assert answer.status == status, answer.body
    assert answer.headers["content-type"] == "application/json; charset=utf-8"


def test_an_answer_from_a_route_raising_an_error_says_it_is_utf_8(api: Api) -> None:
    assert api.call("check_now").status == 200
    answer = api.call("check_now")  # within 30 s: the route raises rate_limited

    assert answer.status == 429, answer.body
    assert answer.headers["content-type"] == "application/json; charset=utf-8"


def test_an_uninstall_answers_204_without_a_body_or_a_json_content_type(api: Api) -> None:
    answer = api.call("uninstalled", account=None)

    assert answer.status == 204
    assert answer.raw == ""
    assert "json" not in answer.headers.get("content-type", "")


# --- URL claims and the site --------------------------------------------------------------------


def token_with(api: Api, *, app: dict[str, Any] | None = None, context: Any = ...) -> str:
    ids = installation("acme")
    claims: dict[str, Any] = {
        "app": {
            "installationId": ids["installationId"],
            "apiBaseUrl": f"{api.sim_url}/ex/jira/{ids['cloudId']}",
        }
    }
    if app:
        claims["app"].update(app)
    if context is not ...:
        claims["context"] = context
    return api.token(**claims)


@pytest.mark.parametrize("sample", ["get_info", "change_key", "history"])
def test_an_api_base_url_claim_with_a_tab_is_403(api: Api, sample: str) -> None:
    ids = installation("acme")
    token = token_with(api, app={"apiBaseUrl": f"{api.sim_url}/ex/jira/\t{ids['cloudId']}"})

    answer = api.call(sample, token=token, body=GOOD_KEY if sample == "change_key" else None)

    assert answer.status == 403, answer.body
    assert answer.body["error"]["code"] == "forbidden"


@pytest.mark.parametrize("bad", ["\x01", "\t", " "])
def test_a_cached_administrator_answer_does_not_stand_in_for_an_allowed_api_base_url(
    api: Api, bad: str
) -> None:
    # Given Jira said yes to this administrator a moment ago (cached for 60 s)
    assert api.call("get_info").status == 200

    # When the same tenant and account come with an API base URL the service never calls
    token = token_with(api, app={"apiBaseUrl": f"{api.sim_url}/ex/jira/{bad}"})
    answer = api.call("get_info", token=token)

    # Then it is refused as it would be without the cached answer
    assert answer.status == 403, answer.body
    assert answer.body["error"]["code"] == "forbidden"


def test_a_site_url_claim_with_a_control_character_is_refused_before_anything_is_recorded(api: Api) -> None:
    ids = installation("acme")
    token = token_with(api, context={"cloudId": ids["cloudId"], "siteUrl": api.sim_url + "\x7f"})

    answer = api.call("change_token", token=token, body=GOOD_TOKEN)

    assert answer.status == 403, answer.body
    assert api.call("history").body["events"] == []


def test_a_token_without_its_site_is_400_on_a_token_change_and_records_nothing(api: Api) -> None:
    token = token_with(api, context=None)  # no `context` claim at all

    answer = api.call("change_token", token=token, body=GOOD_TOKEN)

    assert answer.status == 400, answer.body
    assert answer.body["error"]["code"] == "bad_request"
    assert api.call("history").body["events"] == []


def test_a_renamed_site_is_followed_and_later_checks_use_it(api: Api, aws: dict[str, str]) -> None:
    # Given a site first seen at an address that no longer answers (it was renamed since)
    ids = installation("acme")
    old_site = "http://127.0.0.1:9"
    old = token_with(api, context={"cloudId": ids["cloudId"], "siteUrl": old_site})
    assert api.call("get_info", token=old).status == 200
    assert api.call("get_info").body["tenant"]["siteUrl"] == api.sim_url  # the new name is shown at once

    # When a token is saved and checked at the new address
    assert api.call("change_token", body=GOOD_TOKEN).status == 200
    checked = api.call("check_now", headers={"x-forge-oauth-system": SYSTEM_TOKEN})

    # Then the check reaches the site under its new name
    assert checked.status == 200, checked.body
    assert checked.body["apiToken"]["lastCheck"]["outcome"] == "ok"
    tenant_item = next(i for i in items_of(aws) if i["SK"]["S"] == "TENANT")
    assert tenant_item["siteUrl"]["S"] == api.sim_url


# --- Idempotency-Key records and the uninstall --------------------------------------------------


def test_a_replay_after_an_uninstall_is_a_new_request(api: Api, aws: dict[str, str]) -> None:
    # Given a keyed change, then an uninstall
    keyed = {"Idempotency-Key": "save-then-uninstall"}
    assert api.call("change_key", body=GOOD_KEY, headers=keyed).status == 200
    assert api.call("uninstalled", account=None).status == 204
    assert items_of(aws) == []  # the Idempotency-Key record went with everything else

    # When the same request is replayed
    answer = api.call("change_key", body=GOOD_KEY, headers=keyed)

    # Then it runs again, so that what it answers is what GET shows
    assert answer.status == 200
    assert statuses(api)[0] == answer.body["apiKey"]["status"] == "valid"
    assert [e["action"] for e in api.call("history").body["events"]] == ["changed"]


def test_no_idempotency_record_outlives_its_installation(api: Api, aws: dict[str, str]) -> None:
    keyed = {"Idempotency-Key": "token-once"}
    assert api.call("change_token", body=GOOD_TOKEN, headers=keyed).status == 200
    assert any(i["PK"]["S"].startswith("IDEMPOTENCY#") for i in items_of(aws))

    assert api.call("uninstalled", account=None).status == 204

    blob = json.dumps(boto3.client("dynamodb").scan(TableName=aws["TABLE_NAME"])["Items"])
    assert GOOD_TOKEN["email"] not in blob
    assert "Ada Admin" not in blob


# --- masking --------------------------------------------------------------------------------------


def test_a_short_value_shows_no_character_in_the_history(api: Api) -> None:
    answer = api.call("change_key", body={"apiKey": "A1b2"})
    assert answer.body["error"]["code"] == "api_key_invalid"

    events = api.call("history").body["events"]

    assert [e["maskedValue"] for e in events] == ["••••••••"]
