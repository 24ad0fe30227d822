"""PUT /api-info/token: the site check, the scoped-token check, and every refusal."""

from __future__ import annotations

import pytest

from tests.support.harness import Api
from tests.support.state import current_secret

GOOD = {"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"}


def test_a_classic_token_is_stored_with_its_account(api: Api) -> None:
    answer = api.call("change_token", body=GOOD)

    assert answer.status == 200
    info = answer.body["apiToken"]
    assert info["status"] == "valid"
    assert info["email"] == "ada@acme.test"
    assert info["account"] == {"accountId": "sim-account-ada", "displayName": "Ada Admin"}
    assert info["maskedValue"] == "••••••••OOD2"
    assert "sim-token-classic-GOOD2" not in answer.raw
    tenant = api.call("get_info").body["tenant"]["installationId"]
    assert current_secret(tenant, "apiToken") == GOOD


def test_a_token_entered_with_a_date_already_past_is_refused_and_changes_nothing(api: Api) -> None:
    # Given a saved token
    api.call("change_token", body=GOOD)
    before = api.call("get_info").body["apiToken"]

    # When another is sent with a date already past
    answer = api.call("change_token", body={**GOOD, "expiresOn": "2020-01-01"})

    # Then it is refused as a key's would be (contract: "not in the past"), and nothing changed
    assert (answer.status, answer.body["error"]["code"]) == (422, "validation_error")
    assert answer.body["error"]["details"] == [
        {"field": "expiresOn", "message": "This field must not be in the past."}
    ]
    assert api.call("get_info").body["apiToken"] == before


def test_the_email_is_matched_case_insensitively(api: Api) -> None:
    answer = api.call("change_token", body={**GOOD, "email": "ADA@Acme.Test"})

    assert answer.status == 200


@pytest.mark.parametrize(
    ("email", "token", "status", "code"),
    [
        ("ada@acme.test", "sim-token-scoped-SCP2", 422, "api_token_has_scopes"),
        ("ina@acme.test", "sim-token-inactive-INA2", 422, "api_token_account_inactive"),
        ("alias@acme.test", "sim-token-alias-ALS2", 422, "api_token_email_mismatch"),
        ("ada@acme.test", "sim-token-wrong-XXXX", 422, "api_token_invalid"),
        ("bob@acme.test", "sim-token-classic-GOOD2", 422, "api_token_invalid"),
        ("ada@acme.test", "sim-token-error-ERR5", 502, "atlassian_error"),
        ("ada@acme.test", "sim-token-ratelimited-R429", 503, "atlassian_unavailable"),
        ("ada@acme.test", "sim-token-slow-SLOW", 503, "atlassian_unavailable"),
    ],
)
def test_a_refused_token_is_answered_with_its_code_and_changes_nothing(
    api: Api, email: str, token: str, status: int, code: str
) -> None:
    api.call("change_token", body=GOOD)
    before = api.call("get_info").body["apiToken"]

    answer = api.call("change_token", body={"email": email, "apiToken": token})

    assert (answer.status, answer.body["error"]["code"]) == (status, code)
    assert token not in answer.raw
    assert api.call("get_info").body["apiToken"] == before


def test_scoped_token_message_names_the_right_button(api: Api) -> None:
    answer = api.call("change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-scoped-SCP2"})

    assert "Create API token" in answer.body["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"apiToken": "sim-token-classic-GOOD2"}, "email"),
        ({"email": "not-an-email", "apiToken": "sim-token-classic-GOOD2"}, "email"),
        ({"email": "ada@acme.test"}, "apiToken"),
        ({"email": "ada@acme.test", "apiToken": "two words"}, "apiToken"),
        ({**GOOD, "expiresOn": "yesterday"}, "expiresOn"),
        ({**GOOD, "expiresOn": "2099-02-30"}, "expiresOn"),
        # JSON can carry a lone surrogate ("\\ud800"), which is not text and cannot be sent to Atlassian.
        ({"email": "ada@acme.test", "apiToken": "sim-token-\ud800"}, "apiToken"),
        ({"email": "ada\udca8@acme.test", "apiToken": "sim-token-classic-GOOD2"}, "email"),
    ],
)
def test_invalid_fields_get_422(api: Api, body: dict[str, str], field: str) -> None:
    answer = api.call("change_token", body=body)

    assert answer.status == 422
    assert field in [d["field"] for d in answer.body["error"]["details"]]
    assert api.call("change_token", body=GOOD).status == 200
