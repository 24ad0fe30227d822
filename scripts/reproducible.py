"""Build the layer twice from the same locks and prove both builds hold the same files with the same bytes.

`python -m scripts.reproducible` (or `make reproducible`, which selects python3.13 through pyenv) runs
layers/shared/Makefile, the recipe `sam build` runs, into two scratch folders at different paths, then
compares every file: its path, its bytes and whether it is executable (the times differ and do not count:
the .pyc files are compiled with unchecked hashes, valid whatever the times after unzipping). It prints
one digest for the whole tree, which a reviewer can compare with another machine's, and exits 1 listing
the files that differ. It needs PyPI the first time (pip's cache serves the second build).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYER_SRC = REPO / "layers" / "shared"


def build(artifacts: Path, python: str) -> Path:
    """The layer as `sam build` makes it (its Makefile's build-SharedLayer), into artifacts/python."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-C", str(LAYER_SRC), "build-SharedLayer",
         f"ARTIFACTS_DIR={artifacts}", f"PYTHON={python}"],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(
            f"reproducible: the layer's build failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )
    return artifacts / "python"


def manifest(root: Path) -> dict[str, str]:
    """Relative path -> what must be identical: sha256 of the bytes (or the link's target) and the x bit."""
    entries = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            entries[relative] = f"link:{os.readlink(path)}"
        elif path.is_file():
            executable = "x" if os.access(path, os.X_OK) else "-"
            entries[relative] = f"{executable}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
    return entries


def differences(one: dict[str, str], two: dict[str, str]) -> list[str]:
    """The paths present in one build only, or with other bytes in the two builds."""
    return [
        f"{path}: {one.get(path, '(missing)')} vs {two.get(path, '(missing)')}"
        for path in sorted(one.keys() | two.keys())
        if one.get(path) != two.get(path)
    ]


def digest(entries: dict[str, str]) -> str:
    """One sha256 over every path and its content, in sorted order."""
    return hashlib.sha256(
        "".join(f"{path}\0{what}\n" for path, what in sorted(entries.items())).encode()
    ).hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.reproducible")
    parser.add_argument("--python", default="python3.13", help="the interpreter the layer's Makefile runs")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="layer-one-") as one,
        tempfile.TemporaryDirectory(prefix="layer-2-") as two,
    ):
        first, second = manifest(build(Path(one), args.python)), manifest(build(Path(two), args.python))
    if not first:
        print("reproducible: the build produced no file", file=sys.stderr)
        return 1
    differ = differences(first, second)
    for line in differ:
        print(f"reproducible: differs: {line}", file=sys.stderr)
    if differ:
        print(
            f"reproducible: FAILED, {len(differ)} of {len(first)} files differ between two builds",
            file=sys.stderr,
        )
        return 1
    print(f"reproducible: two layer builds are identical, {len(first)} files, tree sha256 {digest(first)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
