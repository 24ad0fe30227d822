"""The settings page on what Atlassian says of a key (CONTRACT.md 2c): the other-organization refusal, a
key's expiry read from Atlassian, a check that turned a key invalid; and the page in Jira's dark theme.

The service's answers are shaped in the browser (Playwright routes) where the local stack cannot give
them on its own: the page is what is under test here, the service has its own tests. Each test leaves a
screenshot in test-artifacts/screenshots/, and the themes' measured contrasts in test-artifacts/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.e2e.conftest import ARTIFACTS, Stack, screenshot
from tests.e2e.test_settings_page import (
    GOOD_KEY,
    MIXED_HISTORY,
    info,
    key_section,
    mixed_history,
    open_page,
    save_key_through_the_api,
)
from tests.support.contrast import page_background_luminance, text_contrasts

OTHER_ORGANIZATION = {
    "error": {
        "code": "api_key_other_organization",
        "message": "This key belongs to the organization Globex, which does not hold this Jira site. "
        "Create the key in the organization that holds https://acme.atlassian.net.",
        "requestId": "req-e2e",
    }
}
# What WCAG 2 (1.4.3, AA) asks of normal-size text.
AA = 4.5


def site_of(stack: Stack, site: str) -> str:
    """The host of the tenant's Jira site, as GET /api-info gives it and the page names it."""
    answer = stack.http.get("/api-info", headers=stack.headers(installation=site))
    assert answer.status_code == 200, answer.text
    return urlsplit(str(answer.json()["tenant"]["siteUrl"])).netloc


def refuse_key_saves(page: Page) -> None:
    """PUT /api-info/key answers 422 api_key_other_organization, as the service does for such a key."""

    def handle(route: Route) -> None:
        if route.request.method == "PUT":
            route.fulfill(status=422, json=OTHER_ORGANIZATION)
        else:
            route.continue_()

    page.route("**/api-info/key", handle)


def answer_info_with(page: Page, change: Callable[[dict[str, Any]], None]) -> None:
    """GET /api-info as the service answers it, changed by `change`."""

    def handle(route: Route) -> None:
        response = route.fetch()
        body = response.json()
        change(body)
        route.fulfill(response=response, body=json.dumps(body))

    page.route("**/api-info", handle)


def days_from_today(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def test_a_key_of_another_organization_is_explained_naming_the_site(
    page: Page, stack: Stack, site: str
) -> None:
    host = site_of(stack, site)
    refuse_key_saves(page)
    open_page(page, stack, site)
    key = key_section(page)
    key.get_by_role("button", name="Change API key").click()
    field = key.get_by_label("Admin API key")
    field.fill(GOOD_KEY)
    key.get_by_role("button", name="Save").click()

    # Next to the key field, in words an administrator can act on, naming this Jira site.
    error = page.locator("#key-value-error")  # the same field in either language
    expect(error).to_have_text(
        "This API key belongs to another organization, one that does not hold this Jira site. "
        f"Create the key in the organization that holds {host}, then save it here."
    )
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_be_focused()
    screenshot(page, "16-other-organization")

    page.get_by_label("Language").select_option("ko")
    expect(error).to_have_text(
        "이 API 키는 이 Jira 사이트가 없는 다른 조직의 키입니다. "
        f"{host} 사이트가 속한 조직에서 키를 만든 뒤 여기에 저장하세요."
    )
    screenshot(page, "17-other-organization-korean")


def test_a_keys_expiry_read_from_atlassian_says_so(page: Page, stack: Stack, site: str) -> None:
    # Given a key saved without a date, whose date the service then read from Atlassian's key listing
    save_key_through_the_api(stack, site)
    expires = datetime.now(UTC).date() + timedelta(days=5)

    def from_atlassian(body: dict[str, Any]) -> None:
        body["apiKey"].update(
            status="expiring", expiresOn=expires.isoformat(), expiresOnSource="atlassian", daysLeft=5
        )

    answer_info_with(page, from_atlassian)
    open_page(page, stack, site)

    key = key_section(page)
    expect(info(key, "Expires on")).to_have_text(
        f"{expires:%b} {expires.day}, {expires.year} (read from Atlassian, not entered by an administrator)"
    )
    expect(info(key, "Days left")).to_have_text("5 days")
    banner = page.get_by_role("region", name="Expiry warnings")
    expect(banner).to_contain_text("The API key expires in 5 days")
    expect(banner).to_contain_text("Atlassian gave this date.")
    # The form says what a typed date is worth next to Atlassian's.
    key.get_by_role("button", name="Change API key").click()
    expect(key.locator("#key-expires-hint")).to_contain_text("Atlassian's date for the key")
    screenshot(page, "18-key-expiry-from-atlassian")

    page.get_by_label("Language").select_option("ko")
    korean = page.get_by_role("region", name="API 키", exact=True)
    expect(info(korean, "만료일")).to_contain_text("관리자가 입력한 날짜가 아니라 Atlassian에서 읽은 날짜")
    expect(page.get_by_role("region", name="만료 알림")).to_contain_text("Atlassian에서 알려 준")
    expect(korean.locator("#key-expires-hint")).to_contain_text("Atlassian에서 키의 만료일을 읽으면")


def test_a_key_a_check_found_in_another_organization_says_why(page: Page, stack: Stack, site: str) -> None:
    save_key_through_the_api(stack, site)
    host = site_of(stack, site)
    checked = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def turned_invalid(body: dict[str, Any]) -> None:
        check = {"at": checked, "outcome": "rejected", "detail": "api_key_other_organization"}
        body["apiKey"].update(status="invalid", lastCheck=check)

    answer_info_with(page, turned_invalid)
    open_page(page, stack, site)

    key = key_section(page)
    expect(key.locator(".card-heading .status")).to_have_text("✕Invalid")
    last_check = info(key, "Last check")
    expect(last_check).to_contain_text("Rejected by Atlassian")
    expect(last_check).to_contain_text(
        f"Create the key in the organization that holds {host}, then save it here."
    )
    expect(last_check).not_to_contain_text("api_key_other_organization")  # words, not the code
    screenshot(page, "19-check-other-organization")

    page.get_by_label("Language").select_option("ko")
    expect(info(page.locator("#api-key"), "마지막 확인")).to_contain_text(
        f"{host} 사이트가 속한 조직에서 키를 만든 뒤 여기에 저장하세요."
    )


def several_statuses(body: dict[str, Any]) -> None:
    """A key about to expire (its date from Atlassian) and a token Atlassian refused at the last check."""
    expires = days_from_today(5)
    body["apiKey"].update(status="expiring", expiresOn=expires, expiresOnSource="atlassian", daysLeft=5)
    body["apiToken"].update(
        status="invalid",
        maskedValue="••••••••OOD2",
        email="ada@acme.test",
        lastCheck={"at": "2026-12-07T16:30:00Z", "outcome": "rejected", "detail": "api_token_invalid"},
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_both_themes_keep_text_readable_and_statuses_apart_without_colour(
    browser: Browser, stack: Stack, site: str, scheme: Literal["light", "dark"]
) -> None:
    save_key_through_the_api(stack, site)
    context = browser.new_context(
        locale="en-US", viewport={"width": 1100, "height": 900}, color_scheme=scheme
    )
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        answer_info_with(page, several_statuses)
        page.route("**/api-info/history?*", mixed_history)
        refuse_key_saves(page)
        open_page(page, stack, site)
        expect(page.locator("#history-table tbody tr")).to_have_count(len(MIXED_HISTORY))
        key = key_section(page)
        key.get_by_role("button", name="Change API key").click()
        key.get_by_label("Admin API key").fill(GOOD_KEY)
        key.get_by_role("button", name="Save").click()
        expect(key.locator("#key-value-error")).to_be_visible()

        # The page follows the system's theme: a dark page in dark, a light one in light.
        luminance = page_background_luminance(page)
        assert luminance < 0.05 if scheme == "dark" else luminance > 0.8, luminance

        # Statuses differ by symbol and word, not by colour alone.
        badges = page.locator(".card-heading .status")
        expect(badges).to_have_text(["!Expiring soon", "✕Invalid"])
        for badge in badges.all():
            expect(badge.locator(".symbol")).not_to_have_text("")
        expect(page.locator(".expiry-item .symbol")).to_have_text("!")

        measured = text_contrasts(page)
        write_contrasts(f"contrast-page-{scheme}", measured)
        low = [found for found in measured if found["ratio"] < AA]
        assert not low, low
        screenshot(page, f"20-theme-{scheme}")
        assert not errors, errors
    finally:
        context.close()


def write_contrasts(name: str, measured: list[dict[str, Any]]) -> None:
    """Keep what was measured (test-artifacts/<name>.json), the lowest ratio first."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ordered = sorted(measured, key=lambda found: found["ratio"])
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(ordered, indent=1, ensure_ascii=False))
