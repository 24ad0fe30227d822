"""Cold start of every function against the floor, in fresh interpreters: `python -m bench.cold_start`.

Each sample is a new `python -S` process laid out as Lambda lays out a container: the function's
folder (a copy holding only app.py, no bytecode: that is what `sam build` ships), then the layer as
layers/shared/Makefile builds it (for this interpreter: dependencies without boto3, all compiled),
then a "runtime" folder with the pinned boto3 (compiled, as in the Lambda image). Lambda's variables
are set and tracing is on, so Powertools Tracer patches as it would in Lambda. Nothing may be written
(PYTHONDONTWRITEBYTECODE), as under Lambda's read-only /opt and /var/task.

- floor: `import boto3` and one DynamoDB client, in the same layout.
- init: import the handler module and make its first objects (services and the DynamoDB client).
- first request: the handler's first invocation on its sample event right after init: the JWKS
  fetched and the administrator checked over HTTP (local servers), AWS answered instantly by
  replaying what that request did over moto (recorded by bench/warm.py).

Rounds interleave floor and functions so that a busy machine slows all of them alike. Figures are
CPU time (user + system) of the process, the median over the rounds, with the quartiles.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import import_profile
from bench.stack import (
    APP_ID,
    CASES,
    GET_INFO,
    OPERATOR_ARN,
    REPO,
    SITE_URL,
    TENANT,
    Recording,
    lambda_environment,
    ops_twin,
)
from scripts.locks import closure

BENCH_DIR = REPO / ".bench"
# The functions the cold-start target is about: their import profile goes into the report.
PROFILED = ("GetInfoFunction", "ChangeKeyFunction", "ChangeTokenFunction")
LAYER_SRC = REPO / "layers" / "shared"


def _make(target: str, artifacts: Path) -> None:
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(LAYER_SRC),
            target,
            f"ARTIFACTS_DIR={artifacts}",
            f"PYTHON={sys.executable}",
            "PIP_TARGET_PLATFORM=",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"make {target} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


def build_layout() -> tuple[Path, Path]:
    """The layer (layers/shared/Makefile, for this interpreter) and the runtime's boto3, cached by the
    requirements they come from; the layer's own code is rebuilt every run."""
    sources = ("requirements.lock", "requirements-no-deps.lock", "Makefile")
    requirements = "".join((LAYER_SRC / name).read_text() for name in sources)
    key = hashlib.sha256(f"{sys.version}{requirements}".encode()).hexdigest()[:12]
    deps = BENCH_DIR / f"layer-deps-{key}"
    if not (deps / "python").is_dir():
        print(f"bench: building the layer's dependencies into {deps.relative_to(REPO)} ...", flush=True)
        _make("deps", deps)
    # The runtime's boto3 at the dev lock's versions, hash-checked like every other install.
    boto3 = closure(REPO / "requirements-dev.lock", {"boto3"})
    runtime = BENCH_DIR / f"runtime-{hashlib.sha256(f'{sys.version}{boto3}'.encode()).hexdigest()[:12]}"
    if not runtime.is_dir():
        print(
            f"bench: installing boto3 from requirements-dev.lock into {runtime.relative_to(REPO)} ...",
            flush=True,
        )
        requirements = BENCH_DIR / "runtime-requirements.txt"
        requirements.parent.mkdir(parents=True, exist_ok=True)
        requirements.write_text(boto3)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--require-hashes", "--target", str(runtime),
             "-r", str(requirements)],
            check=True,
            capture_output=True,
        )  # fmt: skip
    layer = BENCH_DIR / "layer"
    shutil.rmtree(layer, ignore_errors=True)
    shutil.copytree(deps, layer, symlinks=True)
    _make("code", layer)
    return layer / "python", runtime


def function_dirs(tmp: Path) -> dict[str, tuple[Path, str | None]]:
    """Each function's logical id -> (a copy of its code without bytecode, the sample event it serves)."""
    from local.cfn import functions, load_template

    samples = {}
    for case in CASES:
        if case.operator:
            continue
        event = json.loads((REPO / "events" / f"{case.sample}.json").read_text())
        samples.setdefault((event["httpMethod"], event["resource"]), case.sample)
    out = {}
    for spec in functions(load_template(REPO / "template.yaml")):
        task = tmp / "task" / spec.logical_id
        shutil.copytree(
            REPO / spec.code_uri, task, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
        )
        served = [samples[(r.method, r.path)] for r in spec.routes if (r.method, r.path) in samples]
        sample = served[0] if served else None
        out[spec.logical_id] = (task, sample)
    return out


def quartiles(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {"median": statistics.median(values), "p25": q[0], "p75": q[2], "n": len(values)}


def run(out_dir: Path, rounds: int) -> dict[str, Any]:
    from local.api_client import JwksServer
    from local.atlassian_sim import ADMIN_ACCOUNT, AtlassianSimulator
    from local.dev_issuer import DevTokenIssuer, installation

    warm = json.loads((out_dir / "warm.json").read_text())
    with open(out_dir / "replays.pickle", "rb") as handle:
        replays: dict[str, dict[str, Recording]] = pickle.load(handle)  # noqa: S301 - written by bench/warm.py
    layer, runtime = build_layout()
    issuer = DevTokenIssuer(APP_ID)
    jwks = JwksServer(issuer.jwks())
    simulator = AtlassianSimulator()
    simulator.start()
    ids = installation(TENANT)
    tokens = {
        # Forge's lifecycle trigger runs without a user: its token has no principal.
        sample: issuer.mint(
            installation_id=ids["installationId"],
            account_id=None if sample == "uninstalled" else ADMIN_ACCOUNT,
            cloud_id=ids["cloudId"],
            # get-info records the tenant again when the token names another site than the stored one
            # (a renamed site): its token names the recorded site, so its first request is the one
            # bench/warm.py recorded (one Query). The others call the site: the simulator stands for it.
            site_url=SITE_URL if sample == GET_INFO.sample else simulator.url,
            api_base_url=f"{simulator.url}/ex/jira/{ids['cloudId']}",
            ttl_seconds=3600,
        )
        for sample in ("uninstalled", GET_INFO.sample, "any other")
    }
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    try:
        targets: dict[str, list[str]] = {"floor": []}
        envs: dict[str, dict[str, str]] = {"floor": _base_env(tmp / "task" / "floor", "floor", [runtime])}
        (tmp / "task" / "floor").mkdir(parents=True)
        for logical_id, (task, sample) in function_dirs(tmp).items():
            args = []
            if sample is not None:
                case = next(c for c in CASES if c.sample == sample and not c.operator)
                event = _event(sample, tokens.get(sample, tokens["any other"]), case.body, case.keyed)
                (tmp / f"{sample}.json").write_text(json.dumps(event))
                with open(tmp / f"{sample}.pickle", "wb") as handle:
                    pickle.dump(replays[case.name]["first"].aws, handle)
                args = [str(tmp / f"{sample}.json"), str(tmp / f"{sample}.pickle")]
            targets[logical_id] = args
            env = _base_env(task, logical_id, [task, layer, runtime])
            env.update(warm["function_env"].get(logical_id, {}))
            env.update(
                {
                    "FORGE_JWKS_URL": jwks.url,
                    "ATLASSIAN_API_URL": simulator.url,
                    "ALLOW_INSECURE_LOOPBACK": "true",
                }
            )
            envs[logical_id] = env
            if sample == GET_INFO.sample:
                # The same function's first request when an operator calls it: IAM-signed, so neither
                # the token check nor the administrator check, and what they import, is needed.
                twin = ops_twin(GET_INFO)
                event = _event(
                    sample, tokens["any other"], None, keyed=False, operator_of=ids["installationId"]
                )
                (tmp / "ops.json").write_text(json.dumps(event))
                with open(tmp / "ops.pickle", "wb") as handle:
                    pickle.dump(replays[twin.name]["first"].aws, handle)
                targets[f"{logical_id} via /ops"] = [str(tmp / "ops.json"), str(tmp / "ops.pickle")]
                envs[f"{logical_id} via /ops"] = env
        samples: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
        for _ in range(rounds):
            for name, args in targets.items():
                samples[name].append(_child(tmp, name, args, envs[name]))
        floor_modules = import_profile.profile(envs["floor"], "floor", tmp)
        profiles = {
            name: import_profile.beyond_floor(
                import_profile.profile(envs[name], "function", tmp), floor_modules
            )
            for name in PROFILED
            if name in envs
        }
        profiles["floor"] = sorted(
            import_profile.by_package(floor_modules).items(), key=lambda item: -item[1]
        )[:8]
    finally:
        simulator.stop()
        jwks.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    floor = quartiles([s["init"][1] for s in samples["floor"]])
    result: dict[str, Any] = {"rounds": rounds, "floor": floor, "functions": {}, "import_profile": profiles}
    for name, runs in samples.items():
        if name == "floor":
            continue
        row: dict[str, Any] = {
            "import": quartiles([s["import"][1] for s in runs]),
            "init": quartiles([s["init"][1] for s in runs]),
            "init_wall": quartiles([s["init"][0] for s in runs]),
        }
        row["ratio"] = row["init"]["median"] / floor["median"]
        # Whether pydantic was loaded after init, and after the first request, in any round.
        row["pydantic"] = [any(flags) for flags in zip(*(s["pydantic"] for s in runs), strict=True)]
        if "first" in runs[0]:
            row["first"] = quartiles([s["first"][1] for s in runs])
            row["first_wall"] = quartiles([s["first"][0] for s in runs])
            row["status"] = sorted({s["status"] for s in runs})
        result["functions"][name] = row
    result["floor_wall"] = quartiles([s["init"][0] for s in samples["floor"]])
    return result


def _base_env(task: Path, name: str, paths: list[Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "SYSTEMROOT")}
    env.update(lambda_environment(task, name))
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _event(
    sample: str, token: str, body: dict[str, Any] | None, keyed: bool, operator_of: str | None = None
) -> dict[str, Any]:
    from local.api_client import as_operator
    from local.atlassian_sim import SYSTEM_TOKEN_PREFIX

    event: dict[str, Any] = json.loads((REPO / "events" / f"{sample}.json").read_text())
    headers = event["headers"]
    headers["Authorization"] = f"Bearer {token}"
    if "x-forge-oauth-system" in headers:
        headers["x-forge-oauth-system"] = f"{SYSTEM_TOKEN_PREFIX}-bench"
    if operator_of is not None:
        as_operator(event, operator_of, OPERATOR_ARN)
        headers.pop("x-forge-oauth-system")
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/..."
    if keyed:
        headers["Idempotency-Key"] = "bench-cold-start"
    if body is not None:
        event["body"] = json.dumps(body)
    event["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    return event


def _child(tmp: Path, name: str, args: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = tmp / ("".join(c if c.isalnum() else "_" for c in name) + ".result.json")
    mode = "floor" if name == "floor" else "function"
    done = import_profile.run_child([], [mode, str(result), *args], env, tmp)
    if done.returncode != 0 or not result.exists():
        raise RuntimeError(f"cold start of {name} failed:\n{done.stderr[-3000:]}")
    data: dict[str, Any] = json.loads(result.read_text())
    result.unlink()
    return data


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__)
    parser.add_argument("out", type=Path, help="where bench.warm wrote warm.json and replays.pickle")
    parser.add_argument("--rounds", type=int, default=11)
    args = parser.parse_args(argv)
    result = run(args.out, args.rounds)
    (args.out / "cold.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
