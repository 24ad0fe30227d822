"""Where a cold init goes: `python -X importtime` of a function's init, in the cold-start layout.

Runs bench/_cold_child.py with -X importtime a few times for a function and for the floor, keeps each
module's smallest self time (the least disturbed by the rest of the machine), and sums it by top-level
package. What the function imports beyond the floor is the difference, package by package.
"""

from __future__ import annotations

import collections
import re
import subprocess
import sys
from pathlib import Path

from bench.stack import REPO

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)$")


def run_child(
    flags: list[str], args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """bench/_cold_child.py in a fresh interpreter without site-packages (`-S`: Lambda's layout, not
    this venv's); its stderr is kept."""
    child = [sys.executable, "-S", *flags, str(REPO / "bench" / "_cold_child.py"), *args]
    return subprocess.run(
        child, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False
    )


def profile(env: dict[str, str], mode: str, cwd: Path, runs: int = 5) -> dict[str, float]:
    """Smallest self time (ms) of each module imported by the child, over `runs` interpreters."""
    best: dict[str, float] = {}
    for _ in range(runs):
        done = run_child(["-X", "importtime"], [mode, str(cwd / "importtime.result.json")], env, cwd)
        done.check_returncode()
        for line in done.stderr.splitlines():
            match = _LINE.match(line)
            if match:
                module, self_ms = match.group(4), int(match.group(1)) / 1000
                best[module] = min(best.get(module, self_ms), self_ms)
    return best


def by_package(modules: dict[str, float]) -> dict[str, float]:
    totals: collections.Counter[str] = collections.Counter()
    for module, ms in modules.items():
        totals[module.split(".")[0]] += ms
    return dict(totals)


def beyond_floor(
    function: dict[str, float], floor: dict[str, float], top: int = 12
) -> list[tuple[str, float]]:
    """Packages by the import time a function adds to the floor's, largest first."""
    extra = {m: ms for m, ms in function.items() if m not in floor}
    return sorted(by_package(extra).items(), key=lambda item: -item[1])[:top]
