"""Warm handler time and calls per request, in one process: `python -m bench.warm OUT_DIR`.

For every route: record one request in the warm steady state over moto (its AWS calls and Atlassian
requests are the "calls per request" figures), then time the real `lambda_handler` many times with
AWS answered instantly by botocore's Stubber (replaying the recording) and Atlassian by respx. The
baseline is a bare Powertools REST resolver route returning a constant, timed on the same event
right after each route; all routes take turns, round after round, so that all see the same machine.

Also records, for the cold-start benchmark, each route's first request in a fresh container and
each function's environment. Writes warm.json and replays.pickle to OUT_DIR; stdout is the
functions' own (Powertools logs and metrics) and is best sent to /dev/null.
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.stack import CASES, GET_INFO, Recording, Stack


def stubbed(stack: Stack) -> dict[str, Any]:
    """A Stubber on each of the store's clients, activated."""
    from botocore.stub import Stubber

    from api_info.wiring import services

    stubbers = {
        "dynamodb": Stubber(services().tenants.dynamodb),
        "secretsmanager": Stubber(services().secrets.client),
    }
    for stubber in stubbers.values():
        stubber.activate()
    return stubbers


def queue(stubbers: dict[str, Any], rec: Recording) -> None:
    """Queue a recording's answers, in order, on the Stubbers."""
    from botocore import xform_name

    for service, operation, status, parsed in rec.aws:
        answer = {k: v for k, v in parsed.items() if k != "ResponseMetadata"}
        if status >= 300:
            error = answer.get("Error", {})
            stubbers[service].add_client_error(
                xform_name(operation),
                service_error_code=error.get("Code", ""),
                service_message=error.get("Message", ""),
                http_status_code=status,
            )
        else:
            stubbers[service].add_response(xform_name(operation), answer)


def quantiles(samples: list[float]) -> dict[str, float]:
    q = statistics.quantiles(samples, n=4)
    return {"median": statistics.median(samples), "p25": q[0], "p75": q[2], "n": len(samples)}


def time_all(stack: Stack, recs: dict[str, Recording], bare: Any, iterations: int) -> dict[str, Any]:
    """Median and quartiles (µs) of every route, of the baseline after each, and of the parts of
    GET /api-info, all in one round-robin loop so that a busy moment of the machine hits all alike.

    CPU time is the figure compared: on a shared machine it does not count the time the process
    waited for a core, which wall time (kept as *_wall) does.
    """
    from local.lambdas import LambdaContext

    handlers = {case.name: stack.handler(case) for case in CASES}
    parts = breakdown_steps(stack, recs[GET_INFO.name])
    stubbers = stubbed(stack)
    samples: dict[str, list[float]] = {}

    def keep(name: str, cpu: float, wall: float | None = None) -> None:
        samples.setdefault(name, []).append(cpu * 1e6)
        if wall is not None:
            samples.setdefault(f"{name}_wall", []).append(wall * 1e6)

    warmup = max(10, iterations // 10)
    try:
        for i in range(warmup + iterations):
            for case in CASES:
                event, base_event, context = stack.event(case), stack.event(case), LambdaContext()
                queue(stubbers, recs[case.name])
                wall, cpu = time.perf_counter(), time.process_time()
                answer = handlers[case.name](event, context)
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                if answer["statusCode"] >= 300:
                    raise RuntimeError(f"{case.name} answered {answer['statusCode']}: {answer.get('body')}")
                for stubber in stubbers.values():
                    stubber.assert_no_pending_responses()
                base_wall, base_cpu = time.perf_counter(), time.process_time()
                bare.resolve(base_event, context)
                base_cpu, base_wall = time.process_time() - base_cpu, time.perf_counter() - base_wall
                if i >= warmup:
                    keep(case.name, cpu, wall)
                    keep(f"{case.name} baseline", base_cpu, base_wall)
            for name, (prepare, step) in parts.items():
                argument = prepare(stubbers)
                cpu = time.process_time()
                step(argument)
                if i >= warmup:
                    keep(f"part {name}", time.process_time() - cpu)
    finally:
        for stubber in stubbers.values():
            stubber.deactivate()
    timings: dict[str, Any] = {
        case.name: {
            "route": quantiles(samples[case.name]),
            "baseline": quantiles(samples[f"{case.name} baseline"]),
            "route_wall": quantiles(samples[f"{case.name}_wall"]),
            "baseline_wall": quantiles(samples[f"{case.name} baseline_wall"]),
        }
        for case in CASES
    }
    timings["breakdown"] = {name: statistics.median(samples[f"part {name}"]) for name in parts}
    return timings


def breakdown_steps(stack: Stack, rec: Recording) -> dict[str, tuple[Any, Any]]:
    """The parts of warm GET /api-info, each as (prepare, timed step): the token check, the DynamoDB
    call through botocore, and Powertools around the route (the resolver with validation and the
    handler's decorators, on a route that returns a ready answer). The rest is the service's code."""
    from aws_lambda_powertools.logging import correlation_paths

    from api_info.api import create_app, identify
    from api_info.info import show_info
    from api_info.models import InfoResponse
    from api_info.observability import logger, metrics, tracer
    from api_info.wiring import services
    from local.lambdas import LambdaContext

    svc = services()
    case = GET_INFO
    stubbers = stubbed(stack)
    queue(stubbers, rec)
    answer = show_info(svc, identify(svc, stack.event(case)))
    for stubber in stubbers.values():
        stubber.deactivate()
    app = create_app()

    def ready() -> Any:
        return answer

    ready.__annotations__["return"] = InfoResponse  # the class: this module's annotations are strings
    app.get("/api-info")(tracer.capture_method(ready))

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def framework(event: dict[str, Any], context: Any) -> Any:
        return app.resolve(event, context)

    if framework(stack.event(case), LambdaContext())["statusCode"] != 200:
        raise RuntimeError("the framework-only route failed")
    tenant_id = stack.ids["installationId"]
    return {
        "token check": (lambda _: None, lambda _: svc.verifier.verify(stack.token)),
        "DynamoDB Query (botocore)": (lambda s: queue(s, rec), lambda _: svc.tenants.load(tenant_id)),
        "Powertools around the route": (
            lambda _: (stack.event(case), LambdaContext()),
            lambda arguments: framework(*arguments),
        ),
    }


def bare_resolver() -> Any:
    """The baseline: a bare REST resolver whose routes return a constant."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()
    for case in CASES:
        method, path = case.name.split(" ", 1)
        app.route(path.replace("{tenantId}", "<tenantId>"), method=method)(lambda **_: {"status": "ok"})
    return app


def calls(rec: Recording) -> dict[str, Any]:
    return {
        "dynamodb": rec.count("dynamodb"),
        "secretsmanager": rec.count("secretsmanager"),
        "atlassian": len(rec.atlassian),
        "operations": [f"{s}.{op}" for s, op, *_ in rec.aws],
        "atlassian_requests": [f"{m} {p}" for m, p in rec.atlassian],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.warm", description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--iterations", type=int, default=300)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    stack = Stack()
    bare = bare_resolver()
    results: dict[str, Any] = {"cases": [], "python": sys.version.split()[0]}
    replays: dict[str, dict[str, Recording]] = {}
    try:
        for case in CASES:
            replays[case.name] = {"first": stack.record(case, fresh=True), "warm": stack.record(case)}
        stack.prepare()
        stack.stop_aws()
        timings = time_all(stack, {s: r["warm"] for s, r in replays.items()}, bare, args.iterations)
        for case in CASES:
            results["cases"].append(
                {
                    "name": case.name,
                    "sample": case.sample,
                    "calls": calls(replays[case.name]["warm"]),
                    "first_request_calls": calls(replays[case.name]["first"]),
                    **timings[case.name],
                }
            )
        results["breakdown"] = timings["breakdown"]
        results["function_env"] = stack.function_env
    finally:
        stack.close()
    (args.out / "warm.json").write_text(json.dumps(results, indent=2))
    with open(args.out / "replays.pickle", "wb") as handle:
        pickle.dump(replays, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
