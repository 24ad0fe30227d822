"""The layer's software bill of materials: a CycloneDX SBOM and a license list, written by `make build`.

`python -m scripts.sbom --sbom-python .venv-sbom/bin/python .aws-sam/build` reads the layer that
`sam build` just built (SharedLayer/python) and writes next to the build output:
- sbom.cdx.json: CycloneDX 1.6 from cyclonedx-bom, one component per distribution in the layer (name, exact
  version, purl, declared licenses), reproducible (no serial number or time);
- licenses.txt: one line per distribution with its license and "permissive" or "REVIEW: ...".
It fails when the SBOM does not name every distribution of the layer at its exact version, or names one
that is not there. A license that is not permissive is flagged, on stderr too, but does not fail the build:
a reviewer decides (docs/SECURITY.md, "Supply chain").

Standard library only (it runs with the system's python3); cyclonedx-bom has a venv of its own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SBOM = "sbom.cdx.json"
LICENSES = "licenses.txt"
# SPDX ids a vendor's review accepts without reading further: no copyleft of any strength.
PERMISSIVE = frozenset(
    {
        "0BSD",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "CC0-1.0",
        "ISC",
        "MIT",
        "MIT-0",
        "PSF-2.0",
        "Python-2.0",
        "Unlicense",
        "Zlib",
    }
)
# Trove classifiers some distributions declare instead of an SPDX id.
PERMISSIVE_CLASSIFIERS = frozenset(
    f"License :: OSI Approved :: {name}"
    for name in (
        "Apache Software License",
        "BSD License",
        "MIT License",
        "ISC License (ISCL)",
        "Python Software Foundation License",
        "MIT No Attribution License (MIT-0)",
    )
)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def layer_distributions(layer: Path) -> dict[str, str]:
    """Normalized name -> version of every distribution installed in the layer folder."""
    return {_normalize(dist.metadata["Name"]): dist.version for dist in distributions(path=[str(layer)])}


def sbom_components(sbom: dict[str, Any]) -> dict[str, str]:
    """Normalized name -> version of every component the SBOM lists (not the root component)."""
    return {_normalize(component["name"]): component["version"] for component in sbom.get("components", [])}


def coverage_problems(layer: Path, sbom: dict[str, Any]) -> list[str]:
    """What the SBOM misses of the layer (or names that is not in it); empty when they match exactly."""
    present, listed = layer_distributions(layer), sbom_components(sbom)
    found = [
        f"{name} {version} is in the layer, the SBOM has {listed.get(name, 'nothing')}"
        for name, version in sorted(present.items())
        if listed.get(name) != version
    ]
    found += [
        f"the SBOM names {name} {version}, not in the layer"
        for name, version in sorted(listed.items())
        if name not in present
    ]
    return found


def _is_permissive(entry: dict[str, Any]) -> bool:
    expression = entry.get("expression")
    if isinstance(expression, str):
        ids = [
            token
            for token in re.findall(r"[A-Za-z0-9.+-]+", expression)
            if token not in ("AND", "OR", "WITH")
        ]
        # An OR lets the user pick one license; an AND (or WITH) binds to all of them.
        pick = any if " OR " in f" {expression} " and " AND " not in f" {expression} " else all
        return bool(ids) and pick(token in PERMISSIVE for token in ids)
    license_ = entry.get("license")
    if not isinstance(license_, dict):
        return False
    return license_.get("id") in PERMISSIVE or license_.get("name") in PERMISSIVE_CLASSIFIERS


def license_lines(sbom: dict[str, Any]) -> list[tuple[str, bool]]:
    """One `name version  license` line per component and whether all its declared licenses are permissive."""
    lines = []
    for component in sorted(sbom.get("components", []), key=lambda c: _normalize(c["name"])):
        entries = component.get("licenses", [])
        names = [e.get("expression") or e["license"].get("id") or e["license"].get("name") for e in entries]
        permissive = bool(entries) and all(_is_permissive(entry) for entry in entries)
        declared = " | ".join(dict.fromkeys(names)) or "(no license declared)"
        lines.append((f"{_normalize(component['name'])} {component['version']}  {declared}", permissive))
    return lines


def write(sbom_python: str, build: Path) -> int:
    """Write the SBOM and the license list of build/SharedLayer; 1 when the SBOM does not cover the layer."""
    layer = build / "SharedLayer" / "python"
    if not layer.is_dir():
        print(f"sbom: no layer at {layer}: run sam build first", file=sys.stderr)
        return 1
    # cyclonedx-py reads the distributions on the sys.path of the interpreter it is given: run it isolated
    # (-I), and let only its child see the layer: `-S` keeps site-packages out, PYTHONPATH brings the layer.
    command = [
        sbom_python,
        "-I",
        "-m",
        "cyclonedx_py",
        "environment",
        "-S",
        "--pyproject",
        str(REPO / "pyproject.toml"),
        "--output-reproducible",
        "--of",
        "JSON",
        "-o",
        str(build / SBOM),
        sys.executable,
    ]
    subprocess.run(command, env={**os.environ, "PYTHONPATH": str(layer)}, check=True)
    sbom = json.loads((build / SBOM).read_text())
    lines = license_lines(sbom)
    (build / LICENSES).write_text(
        "# Licenses of the distributions in SharedLayer, from sbom.cdx.json (make build). REVIEW: a license\n"
        "# that is not permissive, or none declared; docs/SECURITY.md says what a release reviewer does.\n"
        + "".join(f"{line}  {'permissive' if ok else 'REVIEW: not permissive'}\n" for line, ok in lines)
    )
    for line, ok in lines:
        if not ok:
            print(f"sbom: REVIEW, not a permissive license: {line}", file=sys.stderr)
    problems = coverage_problems(layer, sbom)
    for problem in problems:
        print(f"sbom: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"sbom: {build / SBOM} and {build / LICENSES}: {len(lines)} distributions, every one in the layer")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.sbom")
    parser.add_argument(
        "--sbom-python", required=True, help="the python of .venv-sbom, which has cyclonedx-bom"
    )
    parser.add_argument("build", type=Path, help="sam build's output folder, .aws-sam/build")
    args = parser.parse_args()
    return write(args.sbom_python, args.build)


if __name__ == "__main__":
    sys.exit(main())
