"""A function's init runs without the cycle collector, and the collector is back on when it ends.

Each function is imported in a fresh interpreter laid out as Lambda lays it out (the function's
folder, then the layer's code), with Lambda's variables set, as bench/cold_start.py does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.stack import lambda_environment
from local.cfn import functions, load_template

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = functions(load_template(REPO / "template.yaml"))
# Counts the collections while the handler's module loads (its init).
PROBE = """
import gc, json
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
import app
print(json.dumps({"collections": collections, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def load(function_dir: Path, name: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(lambda_environment(function_dir, name))
    env["PYTHONPATH"] = os.pathsep.join([str(function_dir), str(REPO / "layers" / "shared")])
    done = subprocess.run(  # noqa: S603 (this test's own probe)
        [sys.executable, "-c", PROBE], env=env, cwd=function_dir, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return loaded


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[spec.logical_id for spec in FUNCTIONS])
def test_a_function_loads_without_collecting_then_collects_as_usual(spec: object) -> None:
    logical_id, code_uri = spec.logical_id, spec.code_uri  # type: ignore[attr-defined]

    loaded = load(REPO / code_uri, logical_id)

    # Hardly a collection while the handler's module and everything it imports loaded: only while Python
    # compiled the handler's file, before its first line turned the collector off (105 to 130 without it)
    assert len(loaded["collections"]) < 10, loaded["collections"]  # type: ignore[arg-type]
    # and at the end of init, what it built is out of the collector's way and the collector is on.
    assert loaded["enabled"] is True
    assert isinstance(loaded["frozen"], int) and loaded["frozen"] > 50_000
