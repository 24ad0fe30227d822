"""forge/manifest.yml through Atlassian's own validator (@forge/manifest, what `forge lint` and `forge deploy`
run) and the scope check of forge/validate.mjs: the manifest passes, and losing a scope one of the service's
Jira calls needs, or its Custom UI resource, fails it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from local.cfn import functions, load_template
from tests.support.forge import FORGE, build_resource, validate
from tests.support.harness import REPO

MANIFEST = FORGE / "manifest.yml"
SERVICE_CALLS: dict[str, Any] = json.loads((FORGE / "service-calls.json").read_text())


@pytest.fixture(scope="module")
def resource() -> Path:
    return build_resource()


def manifest_without(tmp_path: Path, resource: Path, *lines: str) -> Path:
    """A copy of the manifest, next to the built resource, without the given lines (stripped, exact)."""
    kept = [line for line in MANIFEST.read_text().splitlines() if line.strip() not in lines]
    assert len(kept) == len(MANIFEST.read_text().splitlines()) - len(lines), "a line to remove is not there"
    return beside_a_copy_of(resource, tmp_path, "\n".join(kept) + "\n")


def beside_a_copy_of(resource: Path, folder: Path, manifest: str) -> Path:
    """`manifest` written to folder/manifest.yml, with a copy of the built resource where it points."""
    # A copy, not a symlink: @forge/manifest refuses a resource path that is a link (lstat).
    shutil.copytree(resource, folder / "static" / resource.name)
    (folder / "manifest.yml").write_text(manifest)
    return folder / "manifest.yml"


def test_the_manifest_passes_atlassians_validator(resource: Path) -> None:
    done = validate(MANIFEST)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "manifest.yml: valid" in done.stdout


@pytest.mark.parametrize("call", SERVICE_CALLS["calls"], ids=lambda call: f"{call['method']} {call['path']}")
def test_a_manifest_without_the_scope_of_a_jira_call_fails(
    call: dict[str, Any], tmp_path: Path, resource: Path
) -> None:
    (scope,) = call["current"]
    manifest = manifest_without(tmp_path, resource, f"- {scope}")

    done = validate(manifest)

    assert done.returncode == 1, done.stdout
    assert f'Jira endpoint: {call["method"]} {call["path"]} requires "{scope}" scope' in done.stdout
    assert "1 error(s); the manifest is not valid" in done.stdout  # that one, and nothing else


def test_without_any_product_scope_atlassians_own_check_fails(tmp_path: Path, resource: Path) -> None:
    scopes = [f"- {call['current'][0]}" for call in SERVICE_CALLS["calls"]]
    manifest = manifest_without(tmp_path, resource, *scopes)

    done = validate(manifest)

    assert done.returncode == 1
    # Atlassian's, and this project's for each of the calls
    assert f"{1 + len(SERVICE_CALLS['calls'])} error(s)" in done.stdout
    # @forge/manifest's RemoteAuthScopesValidator: a system token needs a product scope besides its own.
    assert "Missing app scopes. If OAuth tokens are required" in done.stdout


def test_granular_scopes_serve_as_well_as_the_classic_ones(tmp_path: Path, resource: Path) -> None:
    # The rule forge lint applies: all classic scopes of a call, or all of its granular ones.
    user = next(call for call in SERVICE_CALLS["calls"] if call["path"] == "/rest/api/3/user")
    text = MANIFEST.read_text()
    granular = "\n".join(f"    - {scope}" for scope in user["beta"])
    manifest = beside_a_copy_of(resource, tmp_path, text.replace("    - read:jira-user", granular))

    done = validate(manifest)

    assert done.returncode == 0, done.stdout + done.stderr


def test_a_manifest_whose_resource_is_missing_fails(tmp_path: Path) -> None:
    copy = tmp_path / "manifest.yml"
    copy.write_text(MANIFEST.read_text())  # no static/ next to it

    done = validate(copy)

    assert done.returncode == 1
    assert "missing resource 'static/api-information' is being referenced by 'main'" in done.stdout


def test_the_service_makes_no_jira_call_the_scope_check_does_not_know() -> None:
    listed = {call["path"] for call in SERVICE_CALLS["calls"] + SERVICE_CALLS["notWithTheAppToken"]}
    code = [*(REPO / "layers" / "shared" / "api_info").rglob("*.py"), *(REPO / "functions").rglob("*.py")]
    called = {
        match
        for path in code
        for match in re.findall(r"/rest/api/\d+/[A-Za-z0-9_/-]*[A-Za-z0-9_]", path.read_text())
    }

    assert called, "the scan found no Jira call at all: is it still looking in the right place?"
    assert called <= listed, f"Jira calls missing from forge/service-calls.json: {sorted(called - listed)}"


def test_the_remote_is_the_stack_and_its_url_is_given_at_deploy_time() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    (remote,) = manifest["remotes"]

    # Never typed in: the ApiUrl output arrives as API_INFO_BASE_URL (make forge-deploy), with no default.
    assert remote["baseUrl"] == "${API_INFO_BASE_URL}"
    assert manifest["environment"]["variables"] == ["API_INFO_BASE_URL"]
    assert remote["auth"] == {"appSystemToken": {"enabled": True}}
    # The uninstall trigger reaches the route template.yaml gives the lifecycle function.
    (trigger,) = manifest["modules"]["trigger"]
    assert trigger["events"] == ["avi:forge:uninstalled:app"]
    endpoint = next(e for e in manifest["modules"]["endpoint"] if e["key"] == trigger["endpoint"])
    routes = {
        (r.method, r.path) for spec in functions(load_template(REPO / "template.yaml")) for r in spec.routes
    }
    assert ("POST", endpoint["route"]["path"]) in routes
    # The daily personal data report reaches its route, with the system token it reports with.
    (scheduled,) = manifest["modules"]["scheduledTrigger"]
    assert scheduled["interval"] == "day"
    report = next(e for e in manifest["modules"]["endpoint"] if e["key"] == scheduled["endpoint"])
    assert ("POST", report["route"]["path"]) in routes
    assert report["route"]["path"] == "/lifecycle/personal-data"
    assert report["auth"] == {"appSystemToken": {"enabled": True}}
    assert "report:personal-data" in manifest["permissions"]["scopes"]
    # The admin page's invokeRemote calls go to the same remote, with the system token.
    (page,) = manifest["modules"]["jira:adminPage"]
    page_endpoint = next(
        e for e in manifest["modules"]["endpoint"] if e["key"] == page["resolver"]["endpoint"]
    )
    assert page_endpoint["remote"] == remote["key"]
    assert page_endpoint["auth"] == {"appSystemToken": {"enabled": True}}
