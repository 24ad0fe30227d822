"""The built layer and its SBOM: run by `make build` after `sam build` (not part of the main suite).

They read .aws-sam/build as `make build` left it: the layer holds exactly the locked releases, and the
SBOM and the license list name every distribution in it at its exact version.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from scripts.locks import REPO, locked
from scripts.sbom import LICENSES, SBOM, coverage_problems, layer_distributions, sbom_components

BUILD = REPO / ".aws-sam" / "build"
LAYER = BUILD / "SharedLayer" / "python"


@pytest.fixture(scope="module")
def sbom() -> dict[str, Any]:
    if not (BUILD / SBOM).is_file() or not LAYER.is_dir():
        pytest.fail(f"no layer and SBOM in {BUILD}: run `make build`")
    result: dict[str, Any] = json.loads((BUILD / SBOM).read_text())
    return result


def test_the_sbom_names_every_distribution_in_the_built_layer_at_its_exact_version(
    sbom: dict[str, Any],
) -> None:
    assert coverage_problems(LAYER, sbom) == []
    assert sbom["bomFormat"] == "CycloneDX"
    assert sbom_components(sbom)["pydantic-core"] == layer_distributions(LAYER)["pydantic-core"]


def test_the_built_layer_holds_exactly_the_locked_releases() -> None:
    pins = locked(REPO / "layers/shared/requirements.lock") | locked(
        REPO / "layers/shared/requirements-no-deps.lock"
    )

    assert layer_distributions(LAYER) == {name: version for (name, _), version in pins.items()}


def test_the_license_list_has_a_verdict_for_every_distribution_in_the_layer(sbom: dict[str, Any]) -> None:
    lines = [line for line in (BUILD / LICENSES).read_text().splitlines() if not line.startswith("#")]

    listed = {tuple(line.split()[:2]) for line in lines}
    assert listed == set(layer_distributions(LAYER).items())
    assert all(line.endswith(("  permissive", "  REVIEW: not permissive")) for line in lines)
