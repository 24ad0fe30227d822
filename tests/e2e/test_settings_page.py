"""The reference settings page in a real browser, against the whole local stack.

Each test leaves a screenshot of the state it reached in test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, Route, expect

from tests.e2e.conftest import Stack, chromium_path, screenshot

GOOD_KEY = "sim-admin-key-unscoped-GOOD1"
SCOPED_KEY = "sim-admin-key-scoped-SCOP1"
EMAIL = "ada@acme.test"
GOOD_TOKEN = "sim-token-classic-GOOD2"


def open_page(page: Page, stack: Stack, site: str) -> None:
    page.goto(f"{stack.url}/?installation={site}")
    expect(page.locator("#api-key")).to_be_visible()


def key_section(page: Page) -> Locator:
    return page.get_by_role("region", name="API Key")


def token_section(page: Page) -> Locator:
    return page.get_by_role("region", name="API Token")


def info(section: Locator, term: str) -> Locator:
    """The value shown under `term` in a credential's info list."""
    return section.locator("dl div").filter(has=section.page.locator("dt", has_text=term)).locator("dd")


def save_key_through_the_api(stack: Stack, site: str) -> None:
    answer = stack.http.put(
        "/api-info/key", headers=stack.headers(installation=site), json={"apiKey": GOOD_KEY}
    )
    assert answer.status_code == 200, answer.text


def save_key_expiring_in(stack: Stack, site: str, days: int) -> date:
    expires = datetime.now(UTC).date() + timedelta(days=days)
    answer = stack.http.put(
        "/api-info/key",
        headers=stack.headers(installation=site),
        json={"apiKey": GOOD_KEY, "expiresOn": expires.isoformat()},
    )
    assert answer.status_code == 200, answer.text
    return expires


def expiry_banner(page: Page, name: str = "Expiry warnings") -> Locator:
    return page.get_by_role("region", name=name)


def test_the_empty_page_shows_both_credentials_as_not_configured(page: Page, stack: Stack, site: str) -> None:
    open_page(page, stack, site)

    for section in (key_section(page), token_section(page)):
        expect(section.locator(".card-heading .status")).to_have_text("○Not configured")
        expect(info(section, "Status")).to_contain_text("Not configured")
        expect(info(section, "Last updated")).to_have_text("—")
        for field in section.locator("input").all():
            expect(field).to_be_disabled()
    key, token = key_section(page), token_section(page)
    expect(key.get_by_role("note")).to_contain_text("API key without scopes")
    expect(token.get_by_role("note")).to_contain_text("Create API token")
    expect(key.get_by_role("link", name="Create and manage API keys")).to_have_attribute(
        "href", "https://admin.atlassian.com/"
    )
    expect(key.get_by_role("link", name="View guide to create API key")).to_have_attribute(
        "href",
        "https://support.atlassian.com/organization-administration/docs/manage-an-organization-with-the-admin-apis/",
    )
    expect(token.get_by_role("link", name="Create and manage API tokens")).to_have_attribute(
        "href", "https://id.atlassian.com/manage-profile/security/api-tokens"
    )
    expect(token.get_by_role("link", name="View guide to create API token")).to_have_attribute(
        "href",
        "https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/",
    )
    expect(page.get_by_role("button", name="Check now")).to_be_enabled()
    screenshot(page, "01-empty")


def test_saving_a_valid_key_with_the_keyboard_alone(page: Page, stack: Stack, site: str) -> None:
    open_page(page, stack, site)
    key = key_section(page)
    expires = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()

    # Given the "Change API key" button has focus / When Enter is pressed
    key.get_by_role("button", name="Change API key").focus()
    page.keyboard.press("Enter")
    # Then the key field is enabled and focused, with Save and Cancel
    field = key.get_by_label("Admin API key")
    expect(field).to_be_focused()
    expect(field).to_be_enabled()
    expect(key.get_by_role("button", name="Cancel")).to_be_visible()

    page.keyboard.type(GOOD_KEY)
    page.keyboard.press("Tab")
    expect(key.get_by_label("Expiry date (optional)")).to_be_focused()
    key.get_by_label("Expiry date (optional)").fill(expires)
    page.keyboard.press("Enter")  # submits the form

    expect(page.get_by_role("status")).to_have_text("The API key was saved.")
    expect(key.locator(".card-heading .status")).to_have_text("✓Valid")
    expect(info(key, "API key")).to_have_text("••••••••OOD1")
    expect(info(key, "Organization")).to_have_text("Acme (simulated)")
    expect(info(key, "Saved by")).to_have_text("Sam Admin (simulated)")  # the name of sim-admin-0001
    expect(info(key, "Expires on")).not_to_have_text("—")
    expect(info(key, "Last check")).to_contain_text("Accepted by Atlassian")
    # Focus lands on what changed, and the form is back to its resting state.
    expect(key.get_by_role("heading", name="API key info")).to_be_focused()
    expect(field).to_be_disabled()
    expect(field).to_have_value("")
    expect(field).to_have_attribute("placeholder", "••••••••OOD1")
    expect(key.get_by_role("link", name="Create and manage API keys")).to_have_attribute(
        "href", "https://admin.atlassian.com/o/sim-org-acme/api-keys"
    )
    screenshot(page, "02-key-saved")


def test_a_rejected_key_shows_the_apis_message_next_to_the_key_field(
    page: Page, stack: Stack, site: str
) -> None:
    open_page(page, stack, site)
    key = key_section(page)
    key.get_by_role("button", name="Change API key").click()
    field = key.get_by_label("Admin API key")
    field.fill(SCOPED_KEY)
    key.get_by_role("button", name="Save").click()

    error = key.locator("#key-value-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("without scopes")  # the page's sentence for api_key_has_scopes
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", "key-value-error")
    expect(field).to_be_focused()
    expect(key.locator(".card-heading .status")).to_have_text("○Not configured")
    screenshot(page, "03-key-rejected")

    # An empty key is refused by the API's validation, next to the same field.
    field.fill("")
    key.get_by_role("button", name="Save").click()
    expect(error).to_have_text("This field must not be empty.")

    # Escape cancels the change and gives focus back to the button that started it.
    page.keyboard.press("Escape")
    expect(key.get_by_role("button", name="Change API key")).to_be_focused()
    expect(error).to_be_hidden()
    expect(field).to_be_disabled()


def test_saving_a_token_and_a_refused_email(page: Page, stack: Stack, site: str) -> None:
    open_page(page, stack, site)
    token = token_section(page)
    token.get_by_role("button", name="Change API token").click()
    email = token.get_by_label("Email address")
    secret = token.get_by_label("User API token")
    expect(email).to_be_focused()
    expect(email).to_be_enabled()
    expect(secret).to_be_enabled()

    # An email that is not the token's account: the message is next to the email field.
    email.fill("alias@acme.test")
    secret.fill("sim-token-alias-ALS2")
    token.get_by_role("button", name="Save").click()
    expect(token.locator("#token-email-error")).to_be_visible()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(token.locator("#token-value-error")).to_be_hidden()

    email.fill(EMAIL)
    secret.fill(GOOD_TOKEN)
    token.get_by_role("button", name="Save").click()

    expect(page.get_by_role("status")).to_have_text("The API token was saved.")
    expect(token.locator(".card-heading .status")).to_have_text("✓Valid")
    expect(info(token, "API token")).to_have_text("••••••••OOD2")
    expect(info(token, "Email address")).to_have_text(EMAIL)
    expect(info(token, "Atlassian account")).to_have_text("Ada Admin")
    expect(token.get_by_role("heading", name="API token info")).to_be_focused()
    expect(email).to_be_disabled()
    expect(email).to_have_value(EMAIL)
    expect(token.locator("#token-email-error")).to_be_hidden()
    screenshot(page, "04-token-saved")


def test_switching_language(page: Page, browser: Browser, stack: Stack, site: str) -> None:
    save_key_through_the_api(stack, site)
    open_page(page, stack, site)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_label("Language").select_option("ko")

    expect(page.locator("html")).to_have_attribute("lang", "ko")
    expect(page.get_by_role("heading", level=1)).to_have_text("API 정보")
    key = page.get_by_role("region", name="API 키")
    expect(key.get_by_role("heading", name="API 키 정보")).to_be_visible()
    expect(key.locator(".card-heading .status")).to_have_text("✓유효함")
    expect(key.get_by_role("button", name="API 키 변경")).to_be_visible()
    expect(
        page.get_by_role("region", name="API 토큰").get_by_role("link", name="API 토큰 생성 및 관리")
    ).to_be_visible()
    expect(page.get_by_role("button", name="지금 확인")).to_be_visible()

    # The API's message is English; in Korean the page shows its own text for the code.
    key.get_by_role("button", name="API 키 변경").click()
    key.get_by_label("Admin API 키").fill(SCOPED_KEY)
    key.get_by_role("button", name="저장").click()
    expect(key.locator("#key-value-error")).to_contain_text("API key without scopes")
    expect(key.locator("#key-value-error")).to_contain_text("범위")
    screenshot(page, "05-korean")

    # The choice is remembered; and a browser set to Korean starts in Korean.
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("API 정보")
    context = browser.new_context(locale="ko-KR")
    try:
        korean = context.new_page()
        korean.goto(f"{stack.url}/?installation={site}")
        expect(korean.get_by_role("heading", level=1)).to_have_text("API 정보")
        expect(korean.get_by_label("언어")).to_have_value("ko")
    finally:
        context.close()
    page.get_by_label("언어").select_option("en")
    expect(page.get_by_role("heading", level=1)).to_have_text("API Information")


def test_check_now_checks_both_credentials_and_the_history_lists_it(
    page: Page, stack: Stack, site: str
) -> None:
    # Needs POST /api-info/check and GET /api-info/history.
    save_key_through_the_api(stack, site)
    open_page(page, stack, site)
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("table")).to_be_visible()
    expect(history.get_by_role("row").nth(1)).to_contain_text("Changed")

    page.get_by_role("button", name="Check now").click()

    expect(page.get_by_role("status")).to_have_text("Both credentials were checked with Atlassian just now.")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Checked")
    expect(info(key_section(page), "Last check")).to_contain_text("Accepted by Atlassian")
    screenshot(page, "06-checked")


def test_the_history_lists_changes_and_refusals_newest_first(page: Page, stack: Stack, site: str) -> None:
    # Needs GET /api-info/history.
    open_page(page, stack, site)
    key = key_section(page)
    key.get_by_role("button", name="Change API key").click()
    key.get_by_label("Admin API key").fill(SCOPED_KEY)
    key.get_by_role("button", name="Save").click()
    expect(key.locator("#key-value-error")).to_be_visible()
    key.get_by_label("Admin API key").fill(GOOD_KEY)
    key.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The API key was saved.")

    rows = page.get_by_role("region", name="History").get_by_role("row")
    expect(rows).to_have_count(3)  # the header and two events
    expect(rows.nth(1)).to_contain_text("Succeeded")
    expect(rows.nth(1)).to_contain_text("••••••••OOD1")
    expect(rows.nth(1)).to_contain_text("Sam Admin (simulated)")
    # The refusal in words, its code only as a tooltip; and its administrator by name: the refusal came
    # before any name was known, and the page names them as the later change learnt.
    expect(rows.nth(2)).to_contain_text("Rejected: the key was created with scopes")
    expect(rows.nth(2)).not_to_contain_text("api_key_has_scopes")
    expect(rows.nth(2).get_by_title("api_key_has_scopes")).to_be_visible()
    expect(rows.nth(2)).to_contain_text("Sam Admin (simulated)")
    expect(rows.nth(2)).not_to_contain_text("sim-admin-0001")
    screenshot(page, "07-history")


def test_one_outcome_at_a_time_in_the_pages_language(page: Page, stack: Stack, site: str) -> None:
    open_page(page, stack, site)
    key = page.locator("#api-key")  # the same card in either language
    status, form_error = page.locator("#announcer"), key.locator(".form-error")
    key.get_by_role("button", name="Change API key").click()
    key.get_by_label("Admin API key").fill(GOOD_KEY)
    key.get_by_role("button", name="Save").click()
    expect(status).to_have_text("The API key was saved.")

    # The success line follows a language switch...
    page.get_by_label("Language").select_option("ko")
    expect(status).to_have_text("API 키를 저장했습니다.")
    # ...and goes with the next action: a refused save shows its refusal alone.
    key.get_by_role("button", name="API 키 변경").click()
    expect(status).to_be_empty()
    field = key.get_by_label("Admin API 키")
    field.fill(SCOPED_KEY)
    key.get_by_role("button", name="저장").click()
    expect(key.locator("#key-value-error")).to_contain_text("범위(scope)가 있는 API 키입니다.")
    expect(status).to_be_empty()

    # Too large for the API at all (over 8 KiB), then too long for a key: in Korean, saying what to do.
    field.fill("x" * 9000)
    key.get_by_role("button", name="저장").click()
    expect(form_error).to_have_text("입력한 값이 너무 깁니다. 값을 줄인 뒤 다시 시도하세요.")
    expect(key.locator("#key-value-error")).to_be_hidden()
    screenshot(page, "12-too-large-korean")
    field.fill("x" * 1025)
    key.get_by_role("button", name="저장").click()
    expect(key.locator("#key-value-error")).to_have_text("1024자 이하로 입력하세요.")
    expect(form_error).to_be_hidden()

    # Switching back says the same refusal in English; the too-large one reads as an instruction too.
    page.get_by_label("언어").select_option("en")
    expect(key.locator("#key-value-error")).to_have_text("This field must be at most 1024 characters long.")
    field = key.get_by_label("Admin API key")
    field.fill("x" * 9000)
    key.get_by_role("button", name="Save").click()
    expect(form_error).to_have_text("The values you entered are too long. Shorten them and try again.")
    expect(status).to_be_empty()
    screenshot(page, "13-too-large-english")


# A history as the service may give it: every kind of actor, refusals and failures, and a person
# named on one line only (acct-ada).
AT = "2026-12-07T16:30:00Z"
ADA = {"type": "atlassian", "accountId": "acct-ada"}
NOBODY = {"type": "atlassian", "accountId": "acct-nobody", "displayName": None}  # never named anywhere
OPERATOR_ARN = "arn:aws:iam::123456789012:role/operators/a-rather-long-role-name-for-ops"
MIXED_HISTORY = [  # (actor, action, outcome, code)
    ({"type": "scheduler"}, "checked", "rejected", "api_token_has_scopes"),
    ({**ADA, "displayName": None}, "changed", "rejected", "api_key_has_scopes"),
    ({**ADA, "displayName": "Ada Lovelace"}, "changed", "rejected", None),
    (NOBODY, "deleted", "failed", "change_in_progress"),
    ({"type": "forge"}, "checked", "rejected", "api_token_account_closed"),
    ({"type": "aws", "arn": OPERATOR_ARN}, "changed", "rejected", None),
    ({"type": "atlassian", "accountId": "closed-account", "displayName": None}, "changed", "rejected", None),
    ({"type": "scheduler"}, "checked", "failed", "a_code_from_later"),
]


def mixed_history(route: Route) -> None:
    events = [
        {"at": AT, "actor": actor, "credential": "apiKey", "action": action, "outcome": outcome, "code": code}
        | {"maskedValue": "••••••••OOD1"}
        for actor, action, outcome, code in MIXED_HISTORY
    ]
    route.fulfill(json={"events": events, "nextCursor": None})


@pytest.mark.parametrize(
    ("locale", "zone", "texts"),
    [
        (
            "en-US",
            "Pacific/Honolulu",
            {
                "when": "Dec 7, 2026, 06:30 HST",
                "rows": [
                    ("Scheduled check", "Rejected: the token was created with scopes"),
                    ("Ada Lovelace", "Rejected: the key was created with scopes"),
                    ("Ada Lovelace", "Rejected"),
                    ("acct-nobody", "Failed: another change was under way"),
                    ("Atlassian's personal data report", "Rejected: the token's account was closed"),
                    ("Operator arn:aws:iam::123456789012:role/operators/", "Rejected"),
                    ("A closed Atlassian account", "Rejected"),
                    ("Scheduled check", "Failed"),
                ],
            },
        ),
        (
            "ko-KR",
            "Asia/Seoul",
            {
                "when": "2026년 12월 8일 01:30 GMT+9",
                "rows": [
                    ("예약된 확인", "거부됨: 범위(scope)가 있는 토큰"),
                    ("Ada Lovelace", "거부됨: 범위(scope)가 있는 키"),
                    ("Ada Lovelace", "거부됨"),
                    ("acct-nobody", "실패: 다른 변경이 진행 중이었음"),
                    ("Atlassian 개인 정보 보고", "거부됨: 토큰의 계정이 폐쇄됨"),
                    ("운영자 arn:aws:iam::123456789012:role/operators/", "거부됨"),
                    ("폐쇄된 Atlassian 계정", "거부됨"),
                    ("예약된 확인", "실패"),
                ],
            },
        ),
    ],
)
def test_the_history_in_words_its_times_in_the_browsers_zone_and_rows_that_reflow(
    browser: Browser, stack: Stack, site: str, locale: str, zone: str, texts: dict[str, Any]
) -> None:
    expires = save_key_expiring_in(stack, site, 400)
    context = browser.new_context(locale=locale, timezone_id=zone, viewport={"width": 1100, "height": 900})
    try:
        page = context.new_page()
        page.route(re.compile(r"/api-info/history\?"), mixed_history)
        page.goto(f"{stack.url}/?installation={site}")
        rows = page.locator("#history-table tbody tr")
        expect(rows).to_have_count(len(MIXED_HISTORY))

        # Every outcome in words (a code the page does not know is not shown), every person by name.
        for row, (by, outcome) in zip(rows.all(), texts["rows"], strict=True):
            expect(row.locator("td").nth(0)).to_have_text(texts["when"])
            expect(row.locator("td").nth(3)).to_contain_text(outcome)
            expect(row.locator("td").nth(5)).to_contain_text(by)
        for code in {code for *_, code in MIXED_HISTORY if code}:
            expect(page.locator("#history-table tbody")).not_to_contain_text(code)

        # A whole day stays that day in any time zone, written as every other date of the language.
        day = (
            f"{expires:%b} {expires.day}, {expires.year}"
            if locale == "en-US"
            else f"{expires.year}년 {expires.month}월 {expires.day}일"
        )
        key = page.locator("#api-key")
        expect(key.locator('dd[data-field="expiresOn"]')).to_contain_text(day)
        expect(key.locator('dd[data-field="lastUpdatedAt"]')).to_contain_text(texts["when"].split(" ")[-1])
        screenshot(page, f"14-history-{locale}")

        # At 390 px the rows reflow, each cell under its column's name: nothing scrolls sideways.
        page.set_viewport_size({"width": 390, "height": 900})
        widths = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth,"
            " document.querySelector('#history-table').scrollWidth,"
            " document.querySelector('#history-table').clientWidth]"
        )
        assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
        expect(page.get_by_role("row")).to_have_count(len(MIXED_HISTORY) + 1)  # still a table to a reader
        screenshot(page, f"15-history-{locale}-390px")
    finally:
        context.close()


def test_a_jira_user_who_is_not_an_administrator_sees_why(page: Page, stack: Stack, site: str) -> None:
    page.goto(f"{stack.url}/?installation={site}&account=user")
    expect(page.get_by_role("alert")).to_contain_text("administrators")
    expect(page.locator("#api-key")).to_be_hidden()
    screenshot(page, "08-not-an-administrator")


def test_an_expiring_key_shows_a_banner_whose_button_opens_its_form(
    page: Page, stack: Stack, site: str
) -> None:
    # Given a key saved with an expiry date 6 days ahead (the service calls that "expiring")
    expires = save_key_expiring_in(stack, site, 6)
    # When the page opens
    open_page(page, stack, site)
    # Then the banner at the top says so, for the key alone (the token is not configured)
    banner = expiry_banner(page)
    expect(banner).to_be_visible()
    expect(banner.get_by_role("listitem")).to_have_count(1)
    expect(banner).to_contain_text(
        f"The API key expires in 6 days ({expires:%b} {expires.day}, {expires.year})."
    )
    key = key_section(page)
    expect(key.locator(".card-heading .status")).to_have_text("!Expiring soon")
    expect(info(key, "Days left")).to_have_text("6 days")
    expect(info(token_section(page), "Days left")).to_have_text("—")
    screenshot(page, "09-expiry-banner")

    # With the keyboard alone, the banner's button opens the key's form with focus in its first field.
    banner.get_by_role("button", name="Change API key").focus()
    page.keyboard.press("Enter")
    field = key.get_by_label("Admin API key")
    expect(field).to_be_focused()
    expect(field).to_be_enabled()
    expect(key.get_by_role("button", name="Save")).to_be_visible()

    # Saving a key without an expiry date makes the banner go away.
    page.keyboard.type(GOOD_KEY)
    key.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The API key was saved.")
    expect(banner).to_be_hidden()
    expect(info(key, "Days left")).to_have_text("—")


def test_the_expiry_banner_in_korean(page: Page, stack: Stack, site: str) -> None:
    expires = save_key_expiring_in(stack, site, 6)
    open_page(page, stack, site)

    page.get_by_label("Language").select_option("ko")

    banner = expiry_banner(page, "만료 알림")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(
        f"API 키가 6일 후에 만료됩니다 ({expires.year}년 {expires.month}월 {expires.day}일)."
    )
    key = page.get_by_role("region", name="API 키", exact=True)
    expect(info(key, "남은 일수")).to_have_text("6일")
    screenshot(page, "10-expiry-banner-korean")
    banner.get_by_role("button", name="API 키 변경").click()
    expect(key.get_by_label("Admin API 키")).to_be_focused()


def test_no_banner_while_every_credential_is_valid(page: Page, stack: Stack, site: str) -> None:
    save_key_expiring_in(stack, site, 400)
    open_page(page, stack, site)
    key = key_section(page)
    expect(key.locator(".card-heading .status")).to_have_text("✓Valid")
    expect(info(key, "Days left")).to_have_text("400 days")
    expect(expiry_banner(page)).to_have_count(0)  # hidden: not in the accessibility tree at all
    expect(page.locator("#expiry")).to_be_hidden()


def test_a_date_from_atlassian_says_so_and_an_expired_key_counts_days_ago(
    page: Page, stack: Stack, site: str
) -> None:
    # Given an answer as the service gives it once it reads token expiry from Atlassian:
    # the token's date came from Atlassian, with daysLeft; the key expired 3 days ago, without daysLeft.
    today = datetime.now(UTC).date()
    token_expires, key_expired = today + timedelta(days=2), today - timedelta(days=3)

    def answer_with_expiry(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        body["apiKey"].update(status="expired", expiresOn=key_expired.isoformat(), expiresOnSource="admin")
        body["apiToken"].update(
            status="expiring",
            maskedValue="••••••••OOD2",
            email=EMAIL,
            expiresOn=token_expires.isoformat(),
            expiresOnSource="atlassian",
            daysLeft=2,
        )
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api-info", answer_with_expiry)
    open_page(page, stack, site)

    banner = expiry_banner(page)
    items = banner.get_by_role("listitem")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text(
        f"The API key expired 3 days ago ({key_expired:%b} {key_expired.day},"
    )
    expect(items.nth(0)).not_to_contain_text("Atlassian gave this date.")
    expect(items.nth(1)).to_contain_text(
        f"The API token expires in 2 days ({token_expires:%b} {token_expires.day},"
    )
    expect(items.nth(1)).to_contain_text("Atlassian gave this date.")
    token = token_section(page)
    expect(info(token, "Expires on")).to_contain_text("read from Atlassian, not entered by an administrator")
    expect(info(token, "Days left")).to_have_text("2 days")
    expect(info(key_section(page), "Expires on")).to_contain_text("entered by an administrator")
    expect(info(key_section(page), "Days left")).to_have_text("Expired 3 days ago")
    screenshot(page, "11-expiry-from-atlassian")

    # The token's button opens the token's form, focus in its first field (the email).
    banner.get_by_role("button", name="Change API token").click()
    expect(token.get_by_label("Email address")).to_be_focused()

    page.get_by_label("Language").select_option("ko")
    korean = expiry_banner(page, "만료 알림").get_by_role("listitem")
    expect(korean.nth(0)).to_contain_text("API 키가 3일 전에 만료되었습니다")
    expect(korean.nth(1)).to_contain_text("API 토큰이 2일 후에 만료됩니다")
    expect(korean.nth(1)).to_contain_text("Atlassian에서 알려 준")


def test_without_chromium_the_browser_tests_fail_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        chromium_path()
