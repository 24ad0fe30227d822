"""The settings page as Forge runs it: the built Custom UI resource (forge/static/api-information, with the
bundled @forge/bridge) in Chromium, under Custom UI's content security policy, every call through
`invokeRemote`.

Only Forge's side of the bridge is a stand-in. In a Custom UI iframe Forge provides `window.__bridge`, and
@forge/bridge's `invokeRemote` hands each call to its `callBridge("invoke", ...)`; here that is the test's
Forge host, which forwards the call to the local stack with a fresh development token and system token
(POST /dev/token, as Forge sends a Forge Invocation Token and the app system token), answers
`{status, headers: {name: [values]}, body}`, and rejects as Forge does when the remote answers 401.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.e2e.conftest import Stack, screenshot
from tests.e2e.test_settings_page import (
    EMAIL,
    GOOD_KEY,
    GOOD_TOKEN,
    SCOPED_KEY,
    info,
    key_section,
    save_key_through_the_api,
    token_section,
)
from tests.support.contrast import page_background_luminance, text_contrasts
from tests.support.forge import build_resource

FORGE_ORIGIN = "https://api-information.cdn.forge.example"
# Custom UI's default policy allows scripts and styles from the resource itself only: no inline script,
# no inline event handler, no inline style. (Forge's own adds Atlassian hosts, which the page never uses.)
CUSTOM_UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'"
)
REJECTION = "Unable to invoke the remote: it could not verify the Forge Invocation Token (401)"

# Forge's side of the bridge, before any script of the page runs; violations of the policy are recorded.
FORGE_HOST = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI || "inline"}`);
});
window.__bridge = {
  async callBridge(name, payload) {
    if (name === "enableTheming") {
      // What Jira does for view.theme.enable(): it marks <html> with the theme it is in.
      const mode = await window.forgeColorMode();
      document.documentElement.setAttribute("data-color-mode", mode);
      document.documentElement.setAttribute("data-theme", `light:light dark:dark`);
      return undefined;
    }
    if (name !== "invoke" || payload.invokeType !== "ui-remote-fetch") {
      throw new Error(`the test's Forge host does not serve ${name} ${payload && payload.invokeType}`);
    }
    const { path, method, headers, body } = payload;
    const answer = await window.forgeRemote({ path, method, headers: headers || {}, body });
    if (answer.rejection) throw new Error(answer.rejection);
    if (answer.undelivered) return { success: false, error: { message: answer.undelivered } };
    return { success: true, payload: answer };
  },
};
"""


@pytest.fixture(scope="module")
def resource() -> Path:
    return build_resource()


@dataclass
class Forge:
    """Forge in front of the page: the resource's host and the remote invocations it forwards."""

    stack: Stack
    site: str
    resource: Path
    context: BrowserContext
    signed_in: bool = True
    bodies_as_text: bool = False  # hand the remote's JSON over as text, not parsed
    delivers: bool = True  # False: Forge cannot deliver the call, and answers with its own error
    account: str = "admin"
    index_html: str | None = None  # serve this instead of the resource's index.html
    color_mode: str = "light"  # the theme Jira is in
    theme_requests: int = 0  # calls of view.theme.enable()
    invocations: list[str] = field(default_factory=list)
    page_requests: list[str] = field(default_factory=list)

    def serve(self, route: Route) -> None:
        name = urlsplit(route.request.url).path.lstrip("/") or "index.html"
        self.page_requests.append(name)
        headers = {"Content-Security-Policy": CUSTOM_UI_CSP}
        file = (self.resource / name).resolve()
        if name == "index.html" and self.index_html is not None:
            route.fulfill(body=self.index_html, content_type="text/html", headers=headers)
        elif file.is_relative_to(self.resource) and file.is_file():
            route.fulfill(path=file, headers=headers)
        else:
            route.fulfill(status=404, body="not in the resource", headers=headers)

    def invoke_remote(self, _source: Any, request: dict[str, Any]) -> dict[str, Any]:
        method, path = request["method"], request["path"]
        self.invocations.append(f"{method} {path}")
        if not self.delivers:
            return {"undelivered": "The remote could not be reached"}
        headers = dict(request["headers"])
        if self.signed_in:
            headers.update(self.stack.headers(account=self.account, installation=self.site))
        body = request.get("body")
        answer = self.stack.http.request(method, path, headers=headers, json=body)
        if answer.status_code == 401:
            return {"rejection": REJECTION}
        return {
            "status": answer.status_code,
            "headers": {name: [value] for name, value in answer.headers.items()},
            "body": answer.text if self.bodies_as_text else answer.json() if answer.content else None,
        }

    def theme(self, _source: Any) -> str:
        self.theme_requests += 1
        return self.color_mode

    def open_page(self, *, refusals_expected: bool = False) -> Page:
        """The admin page as Forge shows it, once it has loaded; it must log no error (the browser logs
        what the policy refuses as one, unless `refusals_expected`)."""
        page = self.context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{FORGE_ORIGIN}/index.html")
        try:
            expect(page.locator("#content")).to_have_attribute("aria-busy", "false")
        except AssertionError as exc:
            raise AssertionError(f"the page did not load; its errors: {errors}") from exc
        if refusals_expected:
            errors = [error for error in errors if "Content Security Policy" not in error]
        assert not errors, f"the page raised JavaScript errors: {errors}"
        return page


@pytest.fixture
def forge(browser: Browser, stack: Stack, site: str, resource: Path) -> Iterator[Forge]:
    context = browser.new_context(locale="en-US", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(20_000)
    host = Forge(stack, site, resource, context)
    context.add_init_script(FORGE_HOST)
    context.expose_binding("forgeRemote", host.invoke_remote)
    context.expose_binding("forgeColorMode", host.theme)
    context.route(f"{FORGE_ORIGIN}/**", host.serve)
    yield host
    context.close()


def assert_obeys_the_policy(page: Page) -> None:
    assert page.evaluate("window.cspViolations") == []


def test_through_forge_the_page_shows_and_saves_credentials(forge: Forge) -> None:
    page = forge.open_page()
    key, token = key_section(page), token_section(page)
    expect(key.locator(".card-heading .status")).to_have_text("○Not configured")
    expect(page.locator("#dev-banner")).to_be_hidden()

    key.get_by_role("button", name="Change API key").click()
    key.get_by_label("Admin API key").fill(GOOD_KEY)
    key.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The API key was saved.")
    expect(key.locator(".card-heading .status")).to_have_text("✓Valid")
    expect(info(key, "API key")).to_have_text("••••••••OOD1")
    expect(info(key, "Organization")).to_have_text("Acme (simulated)")

    token.get_by_role("button", name="Change API token").click()
    token.get_by_label("Email address").fill(EMAIL)
    token.get_by_label("User API token").fill(GOOD_TOKEN)
    token.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("The API token was saved.")
    expect(info(token, "Atlassian account")).to_have_text("Ada Admin")
    screenshot(page, "forge-01-saved")

    assert forge.invocations[:2] == ["GET /api-info", "GET /api-info/history?limit=20"]
    assert {"PUT /api-info/key", "PUT /api-info/token"} <= set(forge.invocations)
    # Everything the page loaded came from the resource: the bridge bundled in it, nothing from a CDN, and
    # no development sign-in (the page reached the API through invokeRemote only).
    assert "vendor/forge-bridge.js" in forge.page_requests
    assert not [name for name in forge.page_requests if "dev/token" in name or "api-info" in name]
    assert_obeys_the_policy(page)


def test_through_forge_refusals_show_next_to_their_fields(forge: Forge) -> None:
    page = forge.open_page()
    key, token = key_section(page), token_section(page)

    key.get_by_role("button", name="Change API key").click()
    key.get_by_label("Admin API key").fill(SCOPED_KEY)
    key.get_by_role("button", name="Save").click()
    expect(key.locator("#key-value-error")).to_contain_text("without scopes")
    expect(key.get_by_label("Admin API key")).to_have_attribute("aria-invalid", "true")
    expect(key.locator(".card-heading .status")).to_have_text("○Not configured")

    token.get_by_role("button", name="Change API token").click()
    token.get_by_label("Email address").fill("alias@acme.test")
    token.get_by_label("User API token").fill("sim-token-alias-ALS2")
    token.get_by_role("button", name="Save").click()
    expect(token.locator("#token-email-error")).to_be_visible()
    expect(token.get_by_label("Email address")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "forge-02-refused")
    assert_obeys_the_policy(page)


def test_through_forge_check_now_and_the_history(forge: Forge, stack: Stack, site: str) -> None:
    forge.bodies_as_text = True  # whichever way Forge hands the body over, the page reads it
    save_key_through_the_api(stack, site)
    page = forge.open_page()
    history = page.get_by_role("region", name="History")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Changed")

    page.get_by_role("button", name="Check now").click()

    expect(page.get_by_role("status")).to_have_text("Both credentials were checked with Atlassian just now.")
    expect(history.get_by_role("row").nth(1)).to_contain_text("Checked")
    expect(info(key_section(page), "Last check")).to_contain_text("Accepted by Atlassian")
    assert "POST /api-info/check" in forge.invocations
    # Forge hands headers over as lists; the page reads them as plain values (Retry-After on a 429).
    page.get_by_role("button", name="Check now").click()
    expect(page.get_by_role("alert").first).to_contain_text("Try again in")
    screenshot(page, "forge-03-checked")
    assert_obeys_the_policy(page)


def test_through_forge_a_rejected_invocation_says_the_user_is_not_signed_in(
    forge: Forge,
) -> None:
    forge.signed_in = False  # the remote cannot verify the token: it answers 401, and Forge rejects

    page = forge.open_page()

    # Forge's own words are for developers ("...could not verify the Forge Invocation Token (401)"): the
    # administrator is told what they can do.
    alert = page.get_by_role("alert").first
    expect(alert).to_contain_text("Your sign-in could not be confirmed. Reopen the app from Jira")
    expect(alert).not_to_contain_text("Forge Invocation Token")
    expect(page.locator("#api-key")).to_be_hidden()
    assert forge.invocations[0] == "GET /api-info"
    screenshot(page, "forge-04-rejected")
    assert_obeys_the_policy(page)


def test_through_forge_a_call_forge_could_not_deliver_says_the_service_was_not_reached(forge: Forge) -> None:
    # @forge/bridge then resolves with Forge's error object, which has no status: not an answer of the API.
    forge.delivers = False

    page = forge.open_page()

    expect(page.get_by_role("alert").first).to_contain_text("The service could not be reached.")
    expect(page.locator("#api-key")).to_be_hidden()
    assert_obeys_the_policy(page)


def test_through_forge_a_jira_user_who_is_not_an_administrator_sees_why(
    forge: Forge,
) -> None:
    forge.account = "user"

    page = forge.open_page()

    expect(page.get_by_role("alert")).to_contain_text("administrators")
    expect(page.locator("#api-key")).to_be_hidden()


def test_the_policy_check_notices_inline_script_and_style(forge: Forge, resource: Path) -> None:
    # Without this, an empty list of violations could mean the policy was never applied.
    html = (resource / "index.html").read_text()
    forge.index_html = html.replace(
        "</body>", '<script>document.title = "inline";</script><p style="color: red">inline</p></body>'
    )

    page = forge.open_page(refusals_expected=True)

    expect(page.locator("#api-key")).to_be_visible()  # the page's own modules still run
    violations = page.evaluate("window.cspViolations")
    assert any(v.startswith("script-src") for v in violations), violations
    assert any(v.startswith("style-src") for v in violations), violations
    assert page.title() != "inline"


def test_through_forge_the_page_follows_jiras_theme(forge: Forge, stack: Stack, site: str) -> None:
    # Jira is dark while the system prefers light: Jira's theme wins.
    save_key_through_the_api(stack, site)
    forge.color_mode = "dark"
    page = forge.open_page()
    expect(page.locator("html")).to_have_attribute("data-color-mode", "dark")
    assert forge.theme_requests == 1
    assert page_background_luminance(page) < 0.05
    expect(key_section(page).locator(".card-heading .status")).to_have_text("✓Valid")
    low = [found for found in text_contrasts(page) if found["ratio"] < 4.5]
    assert not low, low
    screenshot(page, "forge-05-dark")
    assert_obeys_the_policy(page)

    # Jira is light while the system prefers dark: light again.
    forge.color_mode = "light"
    page.emulate_media(color_scheme="dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-color-mode", "light")
    expect(page.locator("#content")).to_have_attribute("aria-busy", "false")
    assert page_background_luminance(page) > 0.8
