"""The SBOM check and the license verdicts, on a layer folder made here (tests/build checks the real one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scripts.sbom import coverage_problems, license_lines


def _layer(tmp_path: Path, **versions: str) -> Path:
    """A layer folder holding only the dist-info of each distribution, as pip --target leaves it."""
    for name, version in versions.items():
        info = tmp_path / f"{name}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    return tmp_path


def _sbom(*components: tuple[str, str]) -> dict[str, Any]:
    return {"components": [{"name": name, "version": version} for name, version in components]}


def test_an_sbom_naming_every_distribution_at_its_version_covers_the_layer(tmp_path: Path) -> None:
    layer = _layer(tmp_path, pydantic_core="2.50.5", httpx="0.28.1")

    assert coverage_problems(layer, _sbom(("pydantic-core", "2.50.5"), ("httpx", "0.28.1"))) == []


def test_a_distribution_missing_from_the_sbom_or_at_another_version_is_reported(tmp_path: Path) -> None:
    layer = _layer(tmp_path, pydantic_core="2.50.5", httpx="0.28.1", certifi="2026.10.19.post1")

    found = coverage_problems(
        layer, _sbom(("httpx", "0.28.0"), ("certifi", "2026.10.19.post1"), ("six", "1.17.0"))
    )

    assert found == [
        "httpx 0.28.1 is in the layer, the SBOM has 0.28.0",
        "pydantic-core 2.50.5 is in the layer, the SBOM has nothing",
        "the SBOM names six 1.17.0, not in the layer",
    ]


def test_a_license_that_is_not_permissive_or_not_declared_is_flagged() -> None:
    sbom = {
        "components": [
            {"name": "cryptography", "version": "1", "licenses": [
                {"expression": "Apache-2.0 OR BSD-3-Clause"}]},
            {"name": "certifi", "version": "2", "licenses": [{"license": {"id": "MPL-2.0"}}]},
            {"name": "aws-xray-sdk", "version": "3", "licenses": [
                {"license": {"name": "License :: OSI Approved :: Apache Software License"}}]},
            {"name": "mixed", "version": "4", "licenses": [{"expression": "MIT AND GPL-3.0-only"}]},
            {"name": "silent", "version": "5", "licenses": []},
        ]
    }  # fmt: skip

    verdicts = {line.split()[0]: permissive for line, permissive in license_lines(sbom)}

    assert verdicts == {
        "aws-xray-sdk": True,
        "certifi": False,
        "cryptography": True,
        "mixed": False,
        "silent": False,
    }
