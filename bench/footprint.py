"""Size of each function's artifact and of the layer after `sam build`: `python -m bench.footprint OUT`.

Builds into a temporary folder (the repository's .aws-sam is left alone) with the `sam` named by
$SAM (default: sam on PATH), then measures each artifact: bytes on disk, and bytes once deflated,
as `sam deploy` zips them. The layer is broken down by top-level package.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from bench.stack import REPO


def build(build_dir: Path) -> None:
    sam = shlex.split(os.environ.get("SAM") or "sam")
    options = ["--template", str(REPO / "template.yaml"), "--build-dir", str(build_dir)]
    done = subprocess.run(
        [*sam, "build", *options, "--cache-dir", str(build_dir.parent / "cache")],
        cwd=REPO,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def measure(root: Path) -> dict[str, int]:
    """Bytes on disk and deflated (zip's level 6) of every file under root."""
    size = deflated = files = 0
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            size += len(data)
            deflated += len(zlib.compress(data, 6))
            files += 1
    return {"bytes": size, "deflated": deflated, "files": files}


def layer_breakdown(python_dir: Path) -> list[dict[str, Any]]:
    """The layer's top-level packages (dist-info folded into them), largest first."""
    groups: dict[str, dict[str, int]] = {}
    for entry in python_dir.iterdir():
        name = entry.name
        if name.endswith(".dist-info") or name.endswith(".data"):
            name = name.split("-")[0].lower()
        name = name.removesuffix(".py").split(".")[0].lower().replace("-", "_")
        name = {"pyjwt": "jwt", "python_dateutil": "dateutil"}.get(name, name)
        sizes = measure(entry) if entry.is_dir() else measure_file(entry)
        total = groups.setdefault(name, {"bytes": 0, "deflated": 0, "files": 0})
        for key in total:
            total[key] += sizes[key]
    return sorted(({"package": k, **v} for k, v in groups.items()), key=lambda row: -row["bytes"])


def measure_file(path: Path) -> dict[str, int]:
    data = path.read_bytes()
    return {"bytes": len(data), "deflated": len(zlib.compress(data, 6)), "files": 1}


def run(skip_build_dir: Path | None = None) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-footprint-"))
    try:
        build_dir = skip_build_dir or tmp / "build"
        if skip_build_dir is None:
            build(build_dir)
        result: dict[str, Any] = {"functions": {}, "layer": {}}
        for artifact in sorted(build_dir.iterdir()):
            if not artifact.is_dir():
                continue
            if (artifact / "python").is_dir():
                result["layer"] = {
                    "name": artifact.name,
                    **measure(artifact),
                    "packages": layer_breakdown(artifact / "python"),
                }
            else:
                result["functions"][artifact.name] = measure(artifact)
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.footprint", description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--build-dir", type=Path, help="measure this sam build output instead of building")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "footprint.json").write_text(json.dumps(run(args.build_dir), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
