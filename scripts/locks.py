"""The hash-locked requirements: `make lock` writes them; `make lock-check` and a unit test keep them honest.

Every environment is installed from a lock with `pip install --require-hashes` (docs/SECURITY.md, "Supply
chain"). `python -m scripts.locks lock --uv <uv>` resolves every lock again with `uv pip compile
--generate-hashes`, keeping each pin that still fits its input (pass `--upgrade` or `--upgrade-package NAME`
to move on), and prints what changed: package, old version, new version. `python -m scripts.locks check`
needs no network: it fails when a lock no longer pins what its input or pyproject.toml declares, when an
entry has no hash, or when the dev environment would test other versions than the layer ships.

Standard library only: `make lock` runs it with the system's python3 before any venv exists.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAYER = "layers/shared"
# The Lambda runtime the layer is built for (layers/shared/Makefile: manylinux2014 aarch64, python3.13).
LAMBDA_TARGET = (
    "--python-platform",
    "aarch64-manylinux2014",
    "--python-version",
    "3.13",
    "--only-binary",
    ":all:",
)
# Tools and tests run on any OS with Python 3.11+: one lock with markers where platforms differ.
ANYWHERE = ("--universal", "--python-version", "3.11")


@dataclass(frozen=True)
class Lock:
    source: str  # the requirements a human edits
    path: str  # the lock `make lock` writes from it
    options: tuple[str, ...]


# In this order: the dev lock is resolved with the layer's locks as constraints, so tests run on exactly
# the versions that ship.
LOCKS = (
    Lock(f"{LAYER}/requirements.txt", f"{LAYER}/requirements.lock", LAMBDA_TARGET),
    # Installed with --no-deps into the layer (see its Makefile): locked without their dependencies too.
    Lock(
        f"{LAYER}/requirements-no-deps.txt",
        f"{LAYER}/requirements-no-deps.lock",
        (*LAMBDA_TARGET, "--no-deps"),
    ),
    Lock(
        "requirements-dev.txt",
        "requirements-dev.lock",
        (*ANYWHERE, "-c", f"{LAYER}/requirements.lock", "-c", f"{LAYER}/requirements-no-deps.lock"),
    ),
    Lock("requirements-sam.txt", "requirements-sam.lock", ANYWHERE),
    # checkov needs soupsieve 4.1.3 (through cloudsplaining and beautifulsoup4), which needs Python 3.11.5+.
    Lock(
        "requirements-checkov.txt", "requirements-checkov.lock", ("--universal", "--python-version", "3.11.5")
    ),
    Lock("requirements-sbom.txt", "requirements-sbom.lock", ANYWHERE),
    Lock("requirements-uv.txt", "requirements-uv.lock", ANYWHERE),
)

_PIN = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==\s*([^\s;\\#]+)\s*(?:;\s*([^\\#]*?))?\s*(?:\\)?\s*$"
)


def normalize(name: str) -> str:
    """PEP 503: the name pip, uv and PyPI compare."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pin(line: str) -> tuple[str, str, str] | None:
    """(name, version, marker) of a `name[extras]==version ; marker` line, else None."""
    match = _PIN.match(line.split(" #", 1)[0].strip())
    if match is None:
        return None
    return normalize(match[1]), match[3], (match[4] or "").strip()


def direct_pins(source: Path) -> dict[str, str]:
    """name -> version of every requirement in a requirements file and the files it includes with -r.

    Raises ValueError on a requirement not pinned with `==`: a lock's input says exactly what it wants.
    """
    pins: dict[str, str] = {}
    for raw in source.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            pins |= direct_pins(source.parent / line.split(None, 1)[1])
            continue
        pin = _pin(line)
        if pin is None:
            raise ValueError(f"{source.name}: {line!r} is not pinned with ==")
        pins[pin[0]] = pin[1]
    return pins


def locked(lock: Path) -> dict[tuple[str, str], str]:
    """(name, marker) -> version of every entry of a lock written by `uv pip compile`."""
    pins = {}
    for first, _ in entries(lock):
        pin = _pin(first)
        if pin is not None:
            pins[pin[0], pin[2]] = pin[1]
    return pins


def entries(lock: Path) -> list[tuple[str, bool]]:
    """(first line, whether it carries a sha256 hash) of every requirement in a lock."""
    found: list[tuple[str, bool]] = []
    for line in lock.read_text().splitlines():
        if line[:1].isalnum():
            found.append((line, False))
        elif found and "--hash=sha256:" in line:
            found[-1] = (found[-1][0], True)
    return found


def closure(lock: Path, roots: set[str]) -> str:
    """The entries of a lock, hashes included, that the packages `roots` need (by the lock's `# via`
    annotations): a requirements file to install part of an environment with --require-hashes."""
    blocks: dict[str, tuple[str, set[str]]] = {}  # name -> (its lines, the packages that need it)
    name = ""
    for line in lock.read_text().splitlines():
        if line[:1].isalnum():
            pin = _pin(line)
            name = pin[0] if pin else ""
            blocks[name] = (line + "\n", set())
        elif name and line.lstrip().startswith("--hash="):
            blocks[name] = (blocks[name][0] + line + "\n", blocks[name][1])
        elif name and line.lstrip().startswith("#"):
            parent = line.lstrip("# ").removeprefix("via").strip()
            if parent and not parent.startswith(("-r ", "-c ")):
                blocks[name][1].add(normalize(parent))
    needed = {normalize(root) for root in roots}
    while True:
        more = {name for name, (_, parents) in blocks.items() if parents & needed} - needed
        if not more:
            break
        needed |= more
    missing = needed - blocks.keys()
    if missing:
        raise ValueError(f"{lock.name} does not pin {sorted(missing)}")
    return "".join(blocks[name][0] for name in sorted(needed))


def problems(repo: Path = REPO) -> list[str]:
    """Every way the locks disagree with what the repository declares; empty when they agree."""
    found: list[str] = []
    versions: dict[str, dict[str, str]] = {}
    for lock in LOCKS:
        path = repo / lock.path
        if not path.is_file():
            found.append(f"{lock.path} is missing: run `make lock`")
            continue
        found += [
            f"{lock.path}: {first.split()[0]} has no hash" for first, hashed in entries(path) if not hashed
        ]
        pins = {name: version for (name, _), version in locked(path).items()}
        versions[lock.path] = pins
        for name, version in direct_pins(repo / lock.source).items():
            if pins.get(name) != version:
                found.append(
                    f"{lock.path} pins {name} {pins.get(name, '(nothing)')}, {lock.source} asks for "
                    f"{version}: run `make lock`"
                )
    layer_declared = direct_pins(repo / LAYER / "requirements.txt") | direct_pins(
        repo / LAYER / "requirements-no-deps.txt"
    )
    project = tomllib.loads((repo / "pyproject.toml").read_text())["project"]["dependencies"]
    declared = {pin[0]: pin[1] for pin in map(_pin, project) if pin}
    if declared != layer_declared:
        found.append(
            f"pyproject.toml declares {sorted(declared.items())}, the layer {sorted(layer_declared.items())}"
        )
    shipped = versions.get(f"{LAYER}/requirements.lock", {}) | versions.get(
        f"{LAYER}/requirements-no-deps.lock", {}
    )
    for name, version in sorted(versions.get("requirements-dev.lock", {}).items()):
        if name in shipped and shipped[name] != version:
            found.append(f"requirements-dev.lock tests {name} {version}, the layer ships {shipped[name]}")
    return found


def changes(before: dict[tuple[str, str], str], after: dict[tuple[str, str], str]) -> list[str]:
    """`package: old -> new` for every entry that a new lock added, removed or moved."""
    lines = []
    for name, marker in sorted(before.keys() | after.keys()):
        old, new = before.get((name, marker), "(none)"), after.get((name, marker), "(removed)")
        if old != new:
            where = f" ; {marker}" if marker else ""
            lines.append(f"  {name}{where}: {old} -> {new}")
    return lines


def lock(uv: str, upgrade: list[str]) -> int:
    """Resolve every lock again and print what moved; 0 when uv succeeded for all of them."""
    for entry in LOCKS:
        path = REPO / entry.path
        before = locked(path) if path.is_file() else {}
        # uv writes a copy (it keeps the pins it finds there); the lock is replaced only when the text
        # changed, so that an unchanged lock keeps its time and make does not rebuild the venvs.
        draft = path.with_name(path.name + ".new")
        if path.is_file():
            shutil.copyfile(path, draft)
        command = [
            uv,
            "pip",
            "compile",
            "--quiet",
            "--generate-hashes",
            "--custom-compile-command",
            "make lock",
            *entry.options,
            *upgrade,
            entry.source,
            "-o",
            str(draft.relative_to(REPO)),
        ]
        if subprocess.run(command, cwd=REPO, check=False).returncode != 0:
            draft.unlink(missing_ok=True)
            print(f"make lock: uv could not resolve {entry.source}", file=sys.stderr)
            return 1
        if path.is_file() and draft.read_bytes() == path.read_bytes():
            draft.unlink()
        else:
            draft.replace(path)
        moved = changes(before, locked(path))
        print(f"{entry.path}: " + (f"{len(moved)} changed" if moved else "unchanged"))
        for line in moved:
            print(line)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.locks")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("lock", help="resolve every lock again (uv pip compile) and print what changed")
    run.add_argument("--uv", required=True, help="the uv executable")
    run.add_argument(
        "--upgrade", action="store_true", help="move every package to its newest fitting version"
    )
    run.add_argument("--upgrade-package", action="append", default=[], metavar="NAME")
    sub.add_parser("check", help="fail when a lock disagrees with its input, pyproject.toml or the layer")
    args = parser.parse_args()
    if args.command == "lock":
        upgrade = ["--upgrade"] if args.upgrade else []
        upgrade += [option for name in args.upgrade_package for option in ("--upgrade-package", name)]
        return lock(args.uv, upgrade)
    found = problems()
    for problem in found:
        print(f"lock-check: {problem}", file=sys.stderr)
    if found:
        return 1
    print("lock-check: the locks agree with their inputs, pyproject.toml and each other")
    return 0


if __name__ == "__main__":
    sys.exit(main())
