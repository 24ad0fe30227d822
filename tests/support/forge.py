"""The Forge side (forge/) from the tests: build the Custom UI resource, run the manifest's validator.

Both run Node with the packages of forge/package-lock.json (`make forge-resource` installs them). Without
Node or those packages the tests fail, they never skip.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.harness import REPO

FORGE = REPO / "forge"
RESOURCE = FORGE / "static" / "api-information"


def _node() -> str:
    node = shutil.which("node")
    if node is None or not (FORGE / "node_modules" / "@forge" / "manifest").is_dir():
        pytest.fail(
            "Node and forge/'s npm packages are needed: install Node 18+, then `make forge-resource` "
            "(.ci/run does both).",
            pytrace=False,
        )
    return node


def build_resource() -> Path:
    """Build forge/static/api-information from local/page/ as `make forge-resource` does; its path."""
    done = subprocess.run(  # noqa: S603 (this repository's own build script)
        [_node(), "build.mjs"], cwd=FORGE, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return RESOURCE


def validate(manifest: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """forge/validate.mjs on `manifest`: Atlassian's @forge/manifest validation plus the scope check."""
    return subprocess.run(  # noqa: S603 (this repository's own validator)
        [_node(), str(FORGE / "validate.mjs"), str(manifest)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
