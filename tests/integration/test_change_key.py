"""PUT /api-info/key: every answer of the contract, and that a failed change changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.atlassian_sim import AtlassianSimulator
from tests.support.harness import NOT_ADMIN, Api
from tests.support.state import current_secret, history_items

GOOD = "sim-admin-key-unscoped-GOOD1"


def tenant_id(api: Api) -> str:
    return str(api.call("get_info").body["tenant"]["installationId"])


def test_a_valid_unscoped_key_is_stored_and_answered_masked(api: Api, aws: dict[str, str]) -> None:
    answer = api.call("change_key", body={"apiKey": GOOD, "expiresOn": "2099-05-01"})

    assert answer.status == 200
    assert answer.body["apiKey"]["status"] == "valid"
    assert answer.body["apiKey"]["maskedValue"] == "••••••••OOD1"
    assert answer.body["apiKey"]["organization"]["id"] == "sim-org-acme"
    assert GOOD not in answer.raw
    assert current_secret(tenant_id(api), "apiKey") == {"apiKey": GOOD}
    events = history_items(aws["TABLE_NAME"], tenant_id(api))
    assert [(e["action"]["S"], e["outcome"]["S"]) for e in events] == [("changed", "succeeded")]


def test_a_second_key_replaces_the_first_and_keeps_it_as_previous(
    api: Api, simulator: AtlassianSimulator
) -> None:
    simulator.add_key("sim-admin-key-second-KEY2", org_id="sim-org-acme", org_name="Acme (simulated)")
    api.call("change_key", body={"apiKey": GOOD})

    answer = api.call("change_key", body={"apiKey": "sim-admin-key-second-KEY2"})

    assert answer.status == 200
    assert api.call("get_info").body["apiKey"]["maskedValue"] == "••••••••KEY2"
    assert current_secret(tenant_id(api), "apiKey") == {"apiKey": "sim-admin-key-second-KEY2"}


@pytest.mark.parametrize(
    ("key", "status", "code"),
    [
        ("sim-admin-key-scoped-SCOP1", 422, "api_key_has_scopes"),
        ("sim-admin-key-no-org-NORG1", 422, "api_key_no_organization"),
        ("sim-admin-key-wrong-XXXX", 422, "api_key_invalid"),
        ("sim-admin-key-error-ERR5", 502, "atlassian_error"),
        ("sim-admin-key-ratelimited-R429", 503, "atlassian_unavailable"),
        ("sim-admin-key-slow-SLOW", 503, "atlassian_unavailable"),
    ],
)
def test_a_refused_key_is_answered_with_its_code_and_changes_nothing(
    api: Api, aws: dict[str, str], key: str, status: int, code: str
) -> None:
    # Given a working key
    api.call("change_key", body={"apiKey": GOOD})
    before = api.call("get_info").body["apiKey"]

    # When
    answer = api.call("change_key", body={"apiKey": key})

    # Then
    assert answer.status == status
    assert answer.body["error"]["code"] == code
    assert answer.body["error"]["message"]
    assert key not in answer.raw
    assert api.call("get_info").body["apiKey"] == before
    assert current_secret(tenant_id(api), "apiKey") == {"apiKey": GOOD}
    last = sorted(history_items(aws["TABLE_NAME"], tenant_id(api)), key=lambda e: e["SK"]["S"])[-1]
    assert last["code"]["S"] == code
    assert last["outcome"]["S"] == ("rejected" if status == 422 else "failed")


@pytest.mark.parametrize("key", ["sim-admin-key-ünicode", "key-\U000ae197-x", "ctrl-\x01-char"])
def test_a_key_that_cannot_be_sent_to_atlassian_is_invalid_not_a_server_error(
    api: Api, simulator: AtlassianSimulator, key: str
) -> None:
    # Found by schemathesis: such a key used to fail in the HTTP client and answer 500.
    simulator.reset()

    answer = api.call("change_key", body={"apiKey": key})

    assert answer.status == 422
    assert answer.body["error"]["code"] == "api_key_invalid"
    assert not [path for _, path in simulator.requests if path.startswith("/admin/")]


def test_scoped_key_message_says_how_to_create_the_right_key(api: Api) -> None:
    answer = api.call("change_key", body={"apiKey": "sim-admin-key-scoped-SCOP1"})

    assert "API key without scopes" in answer.body["error"]["message"]


def test_atlassian_rate_limit_is_passed_on_as_retry_after(api: Api) -> None:
    answer = api.call("change_key", body={"apiKey": "sim-admin-key-ratelimited-R429"})

    assert answer.headers["retry-after"] == "7"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "apiKey"),
        ({"apiKey": ""}, "apiKey"),
        ({"apiKey": "has space"}, "apiKey"),
        ({"apiKey": "x" * 1025}, "apiKey"),
        ({"apiKey": 12345}, "apiKey"),
        ({"apiKey": GOOD, "expiresOn": "2001-01-01"}, "expiresOn"),
        ({"apiKey": GOOD, "expiresOn": "01/05/2099"}, "expiresOn"),
        ({"apiKey": GOOD, "expiresOn": "2099-02-30"}, "expiresOn"),
        ({"apiKey": GOOD, "organization": "x"}, "organization"),
        ({"apiKey": GOOD + "\ud800"}, "apiKey"),
    ],
)
def test_invalid_fields_get_422_with_details_and_change_nothing(
    api: Api, simulator: AtlassianSimulator, body: dict[str, Any], field: str
) -> None:
    simulator.reset()
    answer = api.call("change_key", body=body)

    assert answer.status == 422
    assert answer.body["error"]["code"] == "validation_error"
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert all(d["message"] for d in answer.body["error"]["details"])
    assert simulator.requests == [] or all("/admin/" not in path for _, path in simulator.requests)
    assert api.call("get_info").body["apiKey"]["status"] == "not_configured"


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "This field must not be empty."), ("x" * 1025, "This field must be at most 1024 characters long.")],
)
def test_a_key_of_the_wrong_length_is_explained(api: Api, value: str, message: str) -> None:
    # The settings page shows this message next to the key field.
    answer = api.call("change_key", body={"apiKey": value})

    assert answer.body["error"]["details"] == [{"field": "apiKey", "message": message}]


@pytest.mark.parametrize("raw", ["[1, 2]", "not json", '"a string"', "", "null"])
def test_a_body_that_is_not_a_json_object_is_400(api: Api, raw: str) -> None:
    answer = api.call("change_key", raw_body=raw)

    assert answer.status == 400
    assert answer.body["error"]["code"] == "bad_request"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]
)
def test_a_body_that_is_not_sent_as_json_is_400(api: Api, content_type: str) -> None:
    # Found by schemathesis: text/plain used to answer 500; a form body was parsed like JSON.
    raw = "apiKey=sim-admin-key-unscoped-GOOD1" if "form" in content_type else json.dumps({"apiKey": GOOD})
    answer = api.call("change_key", raw_body=raw, headers={"Content-Type": content_type})

    assert answer.status == 400
    assert answer.body["error"]["code"] == "bad_request"
    assert api.call("get_info").body["apiKey"]["status"] == "not_configured"


def test_json_with_a_charset_or_without_a_content_type_is_accepted(api: Api) -> None:
    answer = api.call(
        "change_key", body={"apiKey": GOOD}, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    assert answer.status == 200
    answer = api.call("change_key", body={"apiKey": GOOD}, headers={"Content-Type": None})
    assert answer.status == 200


def test_a_body_over_8_kib_is_413(api: Api) -> None:
    answer = api.call("change_key", raw_body=json.dumps({"apiKey": GOOD, "pad": "x" * 8200}))

    assert answer.status == 413
    assert answer.body["error"]["code"] == "payload_too_large"


def test_only_administrators_may_change_the_key(api: Api) -> None:
    answer = api.call("change_key", body={"apiKey": GOOD}, account=NOT_ADMIN)

    assert answer.status == 403
    assert api.call("get_info").body["apiKey"]["status"] == "not_configured"


def test_an_unauthenticated_request_with_a_bad_body_is_401_not_422(api: Api) -> None:
    answer = api.call("change_key", body={"nope": 1}, token="garbage")

    assert answer.status == 401


def test_an_unexpected_failure_is_500_without_internals_and_keeps_the_old_key(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api_info.wiring import services

    api.call("change_key", body={"apiKey": GOOD})
    secrets = services().secrets

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom: internal detail /var/task/secret.py")

    monkeypatch.setattr(secrets, "create", broken)
    simulator_key = "sim-admin-key-unscoped-GOOD1"

    answer = api.call("change_key", body={"apiKey": simulator_key, "expiresOn": "2099-01-01"})

    assert answer.status == 500
    assert answer.body["error"]["code"] == "internal_error"
    assert "boom" not in answer.raw and "/var/task" not in answer.raw
    assert api.call("get_info").body["apiKey"]["expiresOn"] is None
