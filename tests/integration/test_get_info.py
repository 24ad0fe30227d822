"""GET /api-info through the real handler, over moto, with the Atlassian simulator."""

from __future__ import annotations

from typing import Any

from tests.support.harness import NOT_ADMIN, Api


def test_a_new_site_sees_both_credentials_not_configured_and_is_recorded(api: Api, table_items: Any) -> None:
    # When
    answer = api.call("get_info")

    # Then
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.body
    assert body["tenant"]["installationId"].startswith("ari:cloud:ecosystem::installation/")
    assert body["tenant"]["siteUrl"] == api.sim_url
    for name in ("apiKey", "apiToken"):
        info = body[name]
        assert info["status"] == "not_configured"
        assert {k: v for k, v in info.items() if k != "status"} == dict.fromkeys(set(info) - {"status"})
    assert body["links"] == {
        "manageApiKeys": "https://admin.atlassian.com/",
        "apiKeyGuide": "https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/",
        "manageApiTokens": "https://id.atlassian.com/manage-profile/security/api-tokens",
        "apiTokenGuide": "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/",
    }
    tenants = [item for item in table_items() if item["SK"]["S"] == "TENANT"]
    assert [t["installationId"]["S"] for t in tenants] == [body["tenant"]["installationId"]]
    assert tenants[0]["cloudId"]["S"] == body["tenant"]["cloudId"]


def test_saved_credentials_show_masked_with_who_saved_them(api: Api) -> None:
    # Given
    api.call("change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": "2099-01-31"})
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"})

    # When
    body = api.call("get_info").body

    # Then
    key, token = body["apiKey"], body["apiToken"]
    assert key["status"] == "valid"
    assert key["maskedValue"] == "••••••••OOD1"
    assert key["organization"] == {"id": "sim-org-acme", "name": "Acme (simulated)"}
    assert key["expiresOn"] == "2099-01-31"
    assert key["createdBy"] == {
        "type": "atlassian",
        "accountId": "sim-admin-0001",
        "displayName": "Sam Admin (simulated)",
    }
    assert key["lastCheck"]["outcome"] == "ok"
    assert key["lastUpdatedAt"].endswith("Z")
    assert token["status"] == "valid"
    assert token["maskedValue"] == "••••••••OOD2"
    assert token["email"] == "ada@acme.test"
    assert token["account"] == {"accountId": "sim-account-ada", "displayName": "Ada Admin"}
    assert token["expiresOn"] is None
    assert body["links"]["manageApiKeys"] == "https://admin.atlassian.com/o/sim-org-acme/api-keys"


def test_a_key_expiring_soon_is_shown_as_expiring(api: Api) -> None:
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    api.call("change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": soon})

    key = api.call("get_info").body["apiKey"]
    assert key["status"] == "expiring"
    assert (key["daysLeft"], key["expiresOnSource"]) == (3, "admin")  # the date an administrator typed in


def test_a_credential_without_a_date_has_no_days_left_and_no_source(api: Api) -> None:
    api.call("change_token", body={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"})

    token = api.call("get_info").body["apiToken"]

    assert (token["expiresOn"], token["daysLeft"], token["expiresOnSource"]) == (None, None, None)


def test_tenants_see_only_their_own_credentials(api: Api) -> None:
    api.call("change_key", body={"apiKey": "sim-admin-key-unscoped-GOOD1"}, tenant="acme")

    other = api.call("get_info", tenant="globex").body

    assert other["apiKey"]["status"] == "not_configured"
    assert (
        other["tenant"]["installationId"]
        != api.call("get_info", tenant="acme").body["tenant"]["installationId"]
    )


def test_without_a_token_the_answer_is_401_in_the_contract_shape(api: Api) -> None:
    answer = api.call("get_info", headers={"Authorization": None})

    assert answer.status == 401
    assert answer.body["error"]["code"] == "unauthenticated"
    assert answer.body["error"]["message"]
    assert answer.body["error"]["requestId"]


def test_a_garbage_or_expired_token_is_401(api: Api) -> None:
    assert api.call("get_info", token="not-a-jwt").status == 401
    expired = api.token(exp=1_000_000, iat=999_000, nbf=999_000)
    assert api.call("get_info", token=expired).body["error"]["code"] == "unauthenticated"


def test_a_token_for_another_app_is_401(api: Api) -> None:
    other_app = api.token(aud="ari:cloud:ecosystem::app/99999999-9999-4999-8999-999999999999")
    assert api.call("get_info", token=other_app).status == 401


def test_a_user_who_is_not_a_jira_administrator_is_403(api: Api) -> None:
    answer = api.call("get_info", account=NOT_ADMIN)

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"


def test_a_system_token_that_cannot_be_sent_fails_closed(api: Api) -> None:
    answer = api.call("get_info", headers={"x-forge-oauth-system": "sim-system-token-\u00fc"})

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"


def test_without_the_app_system_token_the_administrator_check_fails_closed(api: Api) -> None:
    answer = api.call("get_info", headers={"x-forge-oauth-system": None})

    assert answer.status == 403
    assert answer.body["error"]["code"] == "forbidden"
