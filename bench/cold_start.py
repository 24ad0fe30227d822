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

`--against COMMIT` compares get-info, change-key and change-token with COMMIT's (its functions, layer
code and template from `git archive`, its layer built by its own layers/shared/Makefile from the same
dependencies), both in every round: init and init plus the first request beyond the floor of the same
round, before -> after, and the median of the round-by-round differences. The replays are this
checkout's (bench/warm.py): a commit whose first requests make other AWS calls cannot be compared.
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


def _make(target: str, artifacts: Path, source: Path = LAYER_SRC) -> None:
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-C",
            str(source),
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


def build_layout(source: Path = REPO, name: str = "layer") -> tuple[Path, Path]:
    """The layer (layers/shared/Makefile, for this interpreter) and the runtime's boto3, cached by the
    requirements they come from; the layer's own code (`source`'s) is rebuilt every run, into
    .bench/<name>."""
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
    layer = BENCH_DIR / name
    shutil.rmtree(layer, ignore_errors=True)
    shutil.copytree(deps, layer, symlinks=True)
    _make("code", layer, source / "layers" / "shared")
    return layer / "python", runtime


def function_dirs(tmp: Path, source: Path = REPO) -> dict[str, tuple[Path, str | None]]:
    """Each function's logical id -> (a copy of its code without bytecode, the sample event it serves);
    the functions and their code are `source`'s (a checkout), the sample events this one's."""
    from local.cfn import functions, load_template

    samples = {}
    for case in CASES:
        if case.operator:
            continue
        event = json.loads((REPO / "events" / f"{case.sample}.json").read_text())
        samples.setdefault((event["httpMethod"], event["resource"]), case.sample)
    out = {}
    for spec in functions(load_template(source / "template.yaml")):
        task = tmp / "task" / spec.logical_id
        shutil.copytree(
            source / spec.code_uri, task, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
        )
        served = [samples[(r.method, r.path)] for r in spec.routes if (r.method, r.path) in samples]
        sample = served[0] if served else None
        out[spec.logical_id] = (task, sample)
    return out


def quartiles(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return {"median": statistics.median(values), "p25": q[0], "p75": q[2], "n": len(values)}


class _Stage:
    """What every child's first request needs: the JWKS and Atlassian servers, the tokens, and what
    bench/warm.py recorded (the functions' variables and each first request's AWS calls)."""

    def __init__(self, out_dir: Path) -> None:
        from local.api_client import JwksServer
        from local.atlassian_sim import ADMIN_ACCOUNT, AtlassianSimulator
        from local.dev_issuer import DevTokenIssuer, installation

        self.warm = json.loads((out_dir / "warm.json").read_text())
        with open(out_dir / "replays.pickle", "rb") as handle:
            self.replays: dict[str, dict[str, Recording]] = pickle.load(handle)  # noqa: S301 - bench/warm.py's
        issuer = DevTokenIssuer(APP_ID)
        self.jwks = JwksServer(issuer.jwks())
        self.simulator = AtlassianSimulator()
        self.simulator.start()
        self.ids = installation(TENANT)
        self.tokens = {
            # Forge's lifecycle trigger runs without a user: its token has no principal.
            sample: issuer.mint(
                installation_id=self.ids["installationId"],
                account_id=None if sample == "uninstalled" else ADMIN_ACCOUNT,
                cloud_id=self.ids["cloudId"],
                # get-info records the tenant again when the token names another site than the stored one
                # (a renamed site): its token names the recorded site, so its first request is the one
                # bench/warm.py recorded (one Query). The others call the site: the simulator stands for it.
                site_url=SITE_URL if sample == GET_INFO.sample else self.simulator.url,
                api_base_url=f"{self.simulator.url}/ex/jira/{self.ids['cloudId']}",
                ttl_seconds=3600,
            )
            for sample in ("uninstalled", GET_INFO.sample, "any other")
        }

    def stop(self) -> None:
        self.simulator.stop()
        self.jwks.stop()

    def targets(
        self, tmp: Path, source: Path, layer: Path, runtime: Path, label: str = "", only: tuple[str, ...] = ()
    ) -> dict[str, tuple[list[str], dict[str, str]]]:
        """Each function of `source` (only those named in `only`, if any) -> (the child's arguments for
        its first request, its environment), named `label` + its logical id."""
        out: dict[str, tuple[list[str], dict[str, str]]] = {}
        for logical_id, (task, sample) in function_dirs(
            tmp / "tasks" / (label.strip(": ") or "this"), source
        ).items():
            if only and logical_id not in only:
                continue
            args = []
            if sample is not None:
                case = next(c for c in CASES if c.sample == sample and not c.operator)
                event = _event(
                    sample, self.tokens.get(sample, self.tokens["any other"]), case.body, case.keyed
                )
                args = self._files(tmp, f"{label}{sample}", event, self.replays[case.name]["first"])
            env = _base_env(task, logical_id, [task, layer, runtime])
            env.update(self.warm["function_env"].get(logical_id, {}))
            env.update(
                {
                    "FORGE_JWKS_URL": self.jwks.url,
                    "ATLASSIAN_API_URL": self.simulator.url,
                    "ALLOW_INSECURE_LOOPBACK": "true",
                }
            )
            out[f"{label}{logical_id}"] = (args, env)
            if sample == GET_INFO.sample and not only:
                # The same function's first request when an operator calls it: IAM-signed, so neither
                # the token check nor the administrator check, and what they import, is needed.
                twin = ops_twin(GET_INFO)
                event = _event(
                    sample,
                    self.tokens["any other"],
                    None,
                    keyed=False,
                    operator_of=self.ids["installationId"],
                )
                ops = self._files(tmp, f"{label}ops", event, self.replays[twin.name]["first"])
                out[f"{label}{logical_id} via /ops"] = (ops, env)
        return out

    @staticmethod
    def _files(tmp: Path, stem: str, event: dict[str, Any], replay: Recording) -> list[str]:
        name = "".join(c if c.isalnum() else "_" for c in stem)
        (tmp / f"{name}.json").write_text(json.dumps(event))
        with open(tmp / f"{name}.pickle", "wb") as handle:
            pickle.dump(replay.aws, handle)
        return [str(tmp / f"{name}.json"), str(tmp / f"{name}.pickle")]


def _rounds(
    tmp: Path, rounds: int, targets: dict[str, tuple[list[str], dict[str, str]]]
) -> dict[str, list[dict[str, Any]]]:
    """Every target once per round, in turn, so that a busy moment slows all of them alike."""
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in targets}
    for _ in range(rounds):
        for name, (args, env) in targets.items():
            samples[name].append(_child(tmp, name, args, env))
    return samples


def run(out_dir: Path, rounds: int) -> dict[str, Any]:
    layer, runtime = build_layout()
    stage = _Stage(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cold-"))
    try:
        (tmp / "task" / "floor").mkdir(parents=True)
        floor_env = _base_env(tmp / "task" / "floor", "floor", [runtime])
        targets = {"floor": ([], floor_env), **stage.targets(tmp, REPO, layer, runtime)}
        samples = _rounds(tmp, rounds, targets)
        floor_modules = import_profile.profile(floor_env, "floor", tmp)
        profiles = {
            name: import_profile.beyond_floor(
                import_profile.profile(targets[name][1], "function", tmp), floor_modules
            )
            for name in PROFILED
            if name in targets
        }
        profiles["floor"] = sorted(
            import_profile.by_package(floor_modules).items(), key=lambda item: -item[1]
        )[:8]
    finally:
        stage.stop()
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


def compare(out_dir: Path, rounds: int, base: str) -> str:
    """The three profiled functions of commit `base` against this checkout's, interleaved round by
    round in one process: init, and init plus the first request, beyond the floor of the same round."""
    stage = _Stage(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    try:
        before = tmp / "before"
        before.mkdir()
        # Its functions, layer code and template, as committed (git archive needs no work tree).
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", base, "functions", "layers/shared", "template.yaml"],
            capture_output=True,
            check=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(before)], input=archive, check=True)
        layouts = {
            label: (source, *build_layout(source, f"layer-{label.strip(': ')}"))
            for label, source in (("before: ", before), ("after: ", REPO))
        }
        (tmp / "task" / "floor").mkdir(parents=True)
        runtime = layouts["after: "][2]
        targets = {"floor": ([], _base_env(tmp / "task" / "floor", "floor", [runtime]))}
        for label, (source, layer, runtime) in layouts.items():
            targets |= stage.targets(tmp, source, layer, runtime, label, PROFILED)
        samples = _rounds(tmp, rounds, targets)
    finally:
        stage.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return _comparison(samples, rounds, base)


def _comparison(samples: dict[str, list[dict[str, Any]]], rounds: int, base: str) -> str:
    floor = [s["init"][1] for s in samples["floor"]]
    q = quartiles(floor)
    lines = [
        f"cold start, {base} (before) against this checkout (after), {rounds} rounds interleaved; CPU ms, "
        "medians; beyond: per round, against that round's floor; paired: median of after - before",
        f"floor: import boto3 + one DynamoDB client   {q['median']:.0f} [{q['p25']:.0f}-{q['p75']:.0f}]",
        f"{'function':22} {'init beyond the floor':>34} {'init + first request beyond':>36}"
        f" {'first request':>15}",
    ]
    for name in PROFILED:
        before, after = samples[f"before: {name}"], samples[f"after: {name}"]

        def beyond(runs: list[dict[str, Any]], first: bool) -> list[float]:
            return [
                s["init"][1] + (s["first"][1] if first else 0) - f for s, f in zip(runs, floor, strict=True)
            ]

        cells = []
        for first in (False, True):
            b, a = beyond(before, first), beyond(after, first)
            paired = statistics.median(y - x for x, y in zip(b, a, strict=True))
            mb, ma = statistics.median(b), statistics.median(a)
            change = f"{(ma / mb - 1) * 100:+4.0f} %" if mb > 0 else "   - %"  # one noisy round can be <= 0
            cells.append(f"{mb:4.0f} -> {ma:4.0f} ({change}), paired {paired:+4.0f}")
        firsts = [statistics.median(s["first"][1] for s in runs) for runs in (before, after)]
        lines.append(f"{name:22} {cells[0]:>34} {cells[1]:>36} {firsts[0]:6.0f} -> {firsts[1]:4.0f}")
    return "\n".join(lines)


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
    parser.add_argument(
        "--against", metavar="COMMIT", help="compare get-info, change-key and change-token with COMMIT's"
    )
    args = parser.parse_args(argv)
    if args.against:
        print(compare(args.out, args.rounds, args.against))
        return 0
    result = run(args.out, args.rounds)
    (args.out / "cold.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
