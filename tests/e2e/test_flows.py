"""The whole local stack over HTTP: what a person following the README does, and what can go wrong."""

from __future__ import annotations

import shutil
import subprocess
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.conftest import REPO, Stack, local_stack


def test_the_readme_first_steps_work_as_written(tmp_path: Path) -> None:
    # The README's block after `make run`, run by bash with the machine's python3, on a stack of its own
    # (it configures the default site, which other tests expect to find empty).
    readme = (REPO / "README.md").read_text()
    block = readme.split("```bash")[2].split("```")[0]
    assert "http://127.0.0.1:3000/dev/token" in block

    with local_stack(tmp_path) as stack:
        script = block.replace("http://127.0.0.1:3000", stack.url)
        bash = shutil.which("bash") or "/bin/bash"
        done = subprocess.run(  # noqa: S603 - the repository's own README, not outside input
            [bash, "-c", script], capture_output=True, text=True, timeout=120, check=False
        )

    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout.count('"status": "not_configured"') == 2
    # Both valid on the page after the saves; then the key alone (Eve's token is expiring) on the pages
    # after her token is saved, after the dated-by-Atlassian key is saved, and after the check
    assert done.stdout.count('"status": "valid"') == 5
    assert done.stdout.count('"status": "expiring"') == 3
    # Eve's date, read from Atlassian, on three pages; the EXP20 key's on the last two
    assert done.stdout.count('"expiresOnSource": "atlassian"') == 5
    assert "OOD1" in done.stdout and "OOD2" in done.stdout and "EXP1" in done.stdout and "XP20" in done.stdout
    # The key of an organization that does not hold the site is refused, naming the site to create it in
    assert '"code": "api_key_other_organization"' in done.stdout
    assert "Create the key in the organization that holds http://127.0.0.1:" in done.stdout
    assert "HTTP/1.1 429" in done.stdout and "retry-after" in done.stdout.lower()


def test_save_a_key_and_a_token_and_see_them_masked(stack: Stack) -> None:
    # Given a site nobody has configured
    headers = stack.headers(installation="e2e-flow")
    first = stack.http.get("/api-info", headers=headers)
    assert first.status_code == 200
    assert first.json()["apiKey"]["status"] == "not_configured"

    # When the administrator saves a key and a token
    key = stack.http.put(
        "/api-info/key",
        headers=stack.headers(installation="e2e-flow"),
        json={"apiKey": "sim-admin-key-unscoped-GOOD1", "expiresOn": "2099-05-01"},
    )
    token = stack.http.put(
        "/api-info/token",
        headers=stack.headers(installation="e2e-flow"),
        json={"email": "ada@acme.test", "apiToken": "sim-token-classic-GOOD2"},
    )

    # Then both are valid and shown masked, never in full
    assert key.status_code == 200, key.text
    assert token.status_code == 200, token.text
    info = stack.http.get("/api-info", headers=stack.headers(installation="e2e-flow"))
    body = info.json()
    assert body["apiKey"]["status"] == "valid"
    assert body["apiKey"]["maskedValue"] == "••••••••OOD1"
    assert body["apiToken"]["maskedValue"] == "••••••••OOD2"
    assert body["apiToken"]["email"] == "ada@acme.test"
    for answer in (key, token, info):
        assert "sim-admin-key-unscoped-GOOD1" not in answer.text
        assert "sim-token-classic-GOOD2" not in answer.text


def test_a_scoped_key_is_refused_with_a_message_the_admin_can_act_on(stack: Stack) -> None:
    answer = stack.request("PUT", "/api-info/key", json={"apiKey": "sim-admin-key-scoped-SCOP1"})

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "api_key_has_scopes"
    assert answer.headers["content-type"].startswith("application/json")


def test_no_token_is_401_and_a_non_administrator_is_403(stack: Stack) -> None:
    assert stack.http.get("/api-info").json()["error"]["code"] == "unauthenticated"
    assert stack.request("GET", "/api-info", account="user").status_code == 403


def test_an_unknown_route_is_404_in_the_contract_shape(stack: Stack) -> None:
    answer = stack.request("GET", "/api-info/nothing-here")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert answer.json()["error"]["requestId"]


def test_requests_are_served_concurrently(stack: Stack) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda i: stack.request("GET", "/api-info").status_code, range(12)))

    assert answers == [200] * 12


def test_fifty_simultaneous_connections_are_all_answered_none_reset(stack: Stack) -> None:
    # Given 50 administrators of one site, each with a token and a connection of their own
    site = f"e2e-burst-{uuid.uuid4().hex[:8]}"
    tokens = [stack.headers(installation=site) for _ in range(50)]
    clients = [httpx.Client(base_url=stack.url, timeout=60) for _ in tokens]
    start = threading.Barrier(len(tokens))

    def change(client: httpx.Client, headers: dict[str, str]) -> httpx.Response | str:
        start.wait()
        try:
            return client.put(
                "/api-info/key", headers=headers, json={"apiKey": "sim-admin-key-unscoped-GOOD1"}
            )
        except httpx.TransportError as exc:  # a connection reset or refused
            return repr(exc)

    # When they all save a key at the same moment
    try:
        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            answers = list(pool.map(change, clients, tokens))
    finally:
        for client in clients:
            client.close()

    # Then every connection gets a contract answer: a save, another change under way, or the site's
    # change limit; none is dropped, none is a 5xx
    dropped = [a for a in answers if isinstance(a, str)]
    assert not dropped, dropped
    responses = [a for a in answers if isinstance(a, httpx.Response)]
    assert {r.status_code for r in responses} <= {200, 409, 429}, [r.text for r in responses]
    assert any(r.status_code == 200 for r in responses)
    for refused in (r for r in responses if r.status_code != 200):
        error = refused.json()["error"]
        assert error["code"] in ("change_in_progress", "rate_limited")
        assert error["requestId"] == refused.headers["x-amzn-RequestId"]


@pytest.mark.parametrize("path", ["/api-info%00", "/api-info/key%0A", "/ops/tenants/%1B/api-info", "/%7F"])
def test_a_path_with_a_control_character_is_404_like_any_unknown_route(stack: Stack, path: str) -> None:
    answer = stack.request("GET", path)

    assert answer.status_code == 404
    error = answer.json()["error"]
    assert (error["code"], error["requestId"]) == ("not_found", answer.headers["x-amzn-RequestId"])
    assert error["message"]


def test_an_ops_tenant_id_is_decoded_once_as_api_gateway_does(stack: Stack) -> None:
    # Given a site the service has seen, and an operator
    tenant_id = stack.http.post("/dev/token", params={"installation": "e2e-ops"}).json()["installationId"]
    assert stack.http.get("/api-info", headers=stack.headers(installation="e2e-ops")).status_code == 200
    operator = {"X-Local-Iam-User-Arn": "arn:aws:iam::123456789012:user/alice"}
    once = quote(tenant_id, safe="")

    # When the operator names it encoded once, and encoded twice
    found = stack.http.get(f"/ops/tenants/{once}/api-info", headers=operator)
    twice = stack.http.get(f"/ops/tenants/{quote(once, safe='')}/api-info", headers=operator)

    # Then only the first names the site
    assert found.status_code == 200
    assert found.json()["tenant"]["installationId"] == tenant_id
    assert twice.status_code == 404
    assert twice.json()["error"]["code"] == "not_found"


def test_history_delete_and_uninstall_through_the_stack(stack: Stack) -> None:
    def call(method: str, path: str, **kwargs: object) -> httpx.Response:
        return stack.http.request(method, path, headers=stack.headers(installation="e2e-life"), **kwargs)  # type: ignore[arg-type]

    assert call("PUT", "/api-info/key", json={"apiKey": "sim-admin-key-unscoped-GOOD1"}).status_code == 200
    assert call("PUT", "/api-info/key", json={"apiKey": "sim-admin-key-scoped-SCOP1"}).status_code == 422

    history = call("GET", "/api-info/history", params={"limit": "10"}).json()
    assert [(e["outcome"], e["code"]) for e in history["events"]] == [
        ("rejected", "api_key_has_scopes"),
        ("succeeded", None),
    ]

    deleted = call("DELETE", "/api-info/key")
    assert deleted.status_code == 200 and deleted.json()["apiKey"]["status"] == "not_configured"

    assert (
        call("POST", "/lifecycle/uninstalled", json={"eventType": "avi:forge:uninstalled:app"}).status_code
        == 204
    )
    assert call("GET", "/api-info/history").json() == {"events": [], "nextCursor": None}


def test_the_personal_data_cycle_and_its_operator_twin_through_the_stack(stack: Stack) -> None:
    def call(method: str, path: str, **kwargs: object) -> httpx.Response:
        return stack.http.request(method, path, headers=stack.headers(installation="e2e-privacy"), **kwargs)  # type: ignore[arg-type]

    assert call("PUT", "/api-info/key", json={"apiKey": "sim-admin-key-unscoped-GOOD1"}).status_code == 200
    tenant_id = call("GET", "/api-info").json()["tenant"]["installationId"]

    # An administrator's invokeRemote is let through like Forge's trigger; the simulator answers 204.
    first = call("POST", "/lifecycle/personal-data")
    again = call("POST", "/lifecycle/personal-data")
    erased = stack.http.post(
        f"/ops/tenants/{quote(tenant_id, safe='')}/personal-data",
        json={"accountId": "sim-admin-0001", "status": "closed"},
        headers={"X-Local-Iam-User-Arn": "arn:aws:iam::123456789012:user/alice"},
    )

    assert (first.status_code, first.json()["reported"]) == (202, 1)
    assert (again.status_code, again.json()["due"]) == (202, False)  # within the cycle period
    assert (erased.status_code, erased.json()["closed"]) == (202, 1)
    created_by = call("GET", "/api-info").json()["apiKey"]["createdBy"]
    assert created_by == {"type": "atlassian", "accountId": "closed-account", "displayName": None}


def test_a_trickling_atlassian_answer_is_503_within_12_s_and_frees_the_credential(stack: Stack) -> None:
    # The stack's own settings (the 5 s deadline) and simulator (a byte every 2 s): a read never
    # waits 5 s, the whole answer would take minutes; Lambda's 15 s timeout used to end the change.
    site = "e2e-trickle"
    saved = stack.http.put(
        "/api-info/key",
        headers=stack.headers(installation=site),
        json={"apiKey": "sim-admin-key-unscoped-GOOD1"},
    )
    assert saved.status_code == 200, saved.text

    trickling = stack.http.put(
        "/api-info/key",
        headers=stack.headers(installation=site),
        json={"apiKey": "sim-admin-key-trickle-DRIP"},
    )
    again = stack.http.put(
        "/api-info/key",
        headers=stack.headers(installation=site),
        json={"apiKey": "sim-admin-key-unscoped-GOOD1"},
    )

    assert trickling.status_code == 503, trickling.text
    assert trickling.json()["error"]["code"] == "atlassian_unavailable"
    assert trickling.elapsed.total_seconds() < 12
    assert again.status_code == 200, again.text  # not 409: the credential was freed at once
    events = stack.http.get("/api-info/history", headers=stack.headers(installation=site)).json()["events"]
    assert [(e["outcome"], e["code"]) for e in events] == [
        ("succeeded", None),
        ("failed", "atlassian_unavailable"),
        ("succeeded", None),
    ]
