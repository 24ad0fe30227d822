"""Every benchmark of docs/PERFORMANCE.md at smoke size, so that none rots unnoticed.

Each runs as `make bench` / `make bench-checks` run it, in a process of its own, with one round and a
few iterations, and must finish and print its figures. Nothing here times anything: the figures are
the benchmarks' business (docs/PERFORMANCE.md), only their presence is checked, and the calls per
request, which are counts, against their budget, and which functions load pydantic. The footprint
needs `sam build` and is left out.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def bench(module: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'layers' / 'shared'}:{REPO}"}
    done = subprocess.run(  # noqa: S603 (this repository's own benchmarks)
        [sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def section(report: str, heading: str) -> list[str]:
    lines = report.split(heading, 1)[1].splitlines()[1:]
    return lines[: next((i for i, line in enumerate(lines) if not line.strip()), len(lines))]


def test_make_bench_runs_at_smoke_size_and_prints_every_figure() -> None:
    report = bench("bench.run", "--rounds", "1", "--iterations", "3", "--no-build")

    cold = section(report, "1. Cold init")
    for function in ("GetInfoFunction", "ChangeKeyFunction", "ChangeTokenFunction", "CheckWorkerFunction"):
        assert any(re.match(rf"\s+{function} .* \d+\.\d\dx", line) for line in cold), (function, cold)
    # get-info validates no body: neither its init nor its first request (the token and administrator
    # checks, the page) loads pydantic, which is about half of what its cold start was beyond the floor.
    (loads,) = [line for line in cold if "loads pydantic:" in line]
    assert "GetInfoFunction no;" in loads and "ChangeKeyFunction at init" in loads, loads
    warm = section(report, "2. Warm handler time")
    assert len([line for line in warm if re.search(r" \d+\.\dx", line)]) >= 13, warm  # every route
    calls = [line for line in section(report, "3. Calls per request") if "budget" not in line]
    budgeted = [line for line in calls if line.rstrip().endswith(("met", "NOT MET"))]
    assert len(budgeted) == 3, calls  # GET /api-info, PUT key, PUT token
    assert not [line for line in budgeted if line.rstrip().endswith("NOT MET")], budgeted
    assert "skipped (--no-build)" in report


def test_the_cold_start_comparison_with_a_commit_runs_and_prints_the_three_functions(tmp_path: Path) -> None:
    # The comparison docs/PERFORMANCE.md quotes (before and after a change), against HEAD here: every
    # clone has it, and the same code on both sides must still run through the whole comparison.
    bench("bench.warm", str(tmp_path), "--iterations", "3")
    report = bench("bench.cold_start", str(tmp_path), "--rounds", "1", "--against", "HEAD")

    for function in ("GetInfoFunction", "ChangeKeyFunction", "ChangeTokenFunction"):
        (line,) = [line for line in report.splitlines() if line.startswith(function)]
        assert len(re.findall(r"-?\d+ -> +-?\d+ \([^)]* %\), paired +[+-]\d+", line)) == 2, report


def test_make_bench_checks_runs_at_smoke_size_and_checks_every_tenant() -> None:
    report = bench("bench.checks", "--tenants", "30", "--baseline", "10", "--latency-ms", "5")

    assert "failed items 0" in report.split("worker as built", 1)[1].splitlines()[0], report
    assert "failed items 0" in report.split("sequential baseline", 1)[1].splitlines()[0], report
    for figure in ("ratio:", "Atlassian requests in flight at most:", "peak memory:", "targets:"):
        assert figure in report, report


def test_the_token_check_benchmark_runs_and_prints_both_lookups() -> None:
    report = bench("bench.token_check", "--rounds", "2")

    for figure in ("A: kid cache:", "B: JWKS client:", "whole token check:", "key lookup, B / A:"):
        assert figure in report, report


def test_the_atlassian_delay_benchmark_runs_and_prints_both_saves() -> None:
    report = bench("bench.atlassian_delay", "--rounds", "1", "--delay-ms", "20")

    for save in ("PUT /api-info/key", "PUT /api-info/token"):
        (line,) = [line for line in report.splitlines() if line.strip().startswith(save)]
        assert re.search(r"\d+\.\d\dx +\d+\.\d\dx", line), report
