"""Warm handler time and calls per request, in one process: `python -m bench.warm OUT_DIR`.

For every route: record one request in the warm steady state over moto (its AWS calls and Atlassian
requests are the "calls per request" figures), then time the real `lambda_handler` many times with
AWS answered instantly by botocore's Stubber (replaying the recording) and Atlassian by respx. The
baseline is a bare Powertools REST resolver route returning a constant, timed on the same event,
interleaved with the route so that both see the same machine.

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

from bench.stack import CASES, Case, Recording, Stack


def stubbed(stack: Stack) -> dict[str, Any]:
    """A Stubber on each of the store's clients, activated."""
    from botocore.stub import Stubber

    from api_info.service import services

    stubbers = {
        "dynamodb": Stubber(services().store.dynamodb),
        "secretsmanager": Stubber(services().store.secrets),
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


def time_case(stack: Stack, case: Case, rec: Recording, bare: Any, iterations: int) -> dict[str, Any]:
    """Median and quartiles (microseconds, CPU and wall) of the route and of the baseline, interleaved.

    CPU time is the figure compared: on a shared machine it does not count the time the process
    waited for a core, which wall time does.
    """
    from tests.support.harness import LambdaContext

    handler = stack.handler(case)
    stubbers = stubbed(stack)
    samples: dict[str, list[float]] = {"route": [], "baseline": [], "route_wall": [], "baseline_wall": []}
    warmup = max(10, iterations // 10)
    try:
        for i in range(warmup + iterations):
            event, base_event = stack.event(case), stack.event(case)
            queue(stubbers, rec)
            context = LambdaContext()
            wall, cpu = time.perf_counter(), time.process_time()
            answer = handler(event, context)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if answer["statusCode"] >= 300:
                raise RuntimeError(f"{case.name} answered {answer['statusCode']}: {answer.get('body')}")
            for stubber in stubbers.values():
                stubber.assert_no_pending_responses()
            base_wall, base_cpu = time.perf_counter(), time.process_time()
            bare.resolve(base_event, context)
            base_cpu, base_wall = time.process_time() - base_cpu, time.perf_counter() - base_wall
            if i >= warmup:
                for name, value in (
                    ("route", cpu),
                    ("baseline", base_cpu),
                    ("route_wall", wall),
                    ("baseline_wall", base_wall),
                ):
                    samples[name].append(value * 1e6)
    finally:
        for stubber in stubbers.values():
            stubber.deactivate()
    return {name: quantiles(values) for name, values in samples.items()}


def breakdown(stack: Stack, rec: Recording, iterations: int) -> dict[str, float]:
    """Where warm GET /api-info time goes (CPU µs, medians): the token check, the DynamoDB call through
    botocore, and Powertools around the route (resolver with validation and the handler's decorators,
    timed on a route that returns a ready answer); the rest is the service's own code."""
    from aws_lambda_powertools.logging import correlation_paths

    from api_info.api import create_app, identify
    from api_info.models import InfoResponse
    from api_info.observability import logger, metrics, tracer
    from api_info.service import services, show_info
    from tests.support.harness import LambdaContext

    svc = services()
    case = CASES[0]
    caller = identify(svc, stack.event(case))
    stubbers = stubbed(stack)
    queue(stubbers, rec)
    answer = show_info(svc, caller)
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

    def cpu_us(step: Any, before: Any = None) -> float:
        samples = []
        for _ in range(iterations):
            argument = before() if before else None
            start = time.process_time()
            step(argument)
            samples.append((time.process_time() - start) * 1e6)
        return statistics.median(samples)

    try:
        if framework(stack.event(case), LambdaContext())["statusCode"] != 200:
            raise RuntimeError("the framework-only route failed")
        tenant_id = stack.ids["installationId"]
        return {
            "token check": cpu_us(lambda _: svc.verifier.verify(stack.token)),
            "DynamoDB Query (botocore)": cpu_us(
                lambda _: svc.store.load(tenant_id), lambda: queue(stubbers, rec)
            ),
            "Powertools around the route": cpu_us(
                lambda event: framework(event, LambdaContext()), lambda: stack.event(case)
            ),
        }
    finally:
        for stubber in stubbers.values():
            stubber.deactivate()


def bare_resolver() -> Any:
    """The baseline: a bare REST resolver whose routes return a constant."""
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()
    for case in CASES:
        event = json.loads((Path("events") / f"{case.sample}.json").read_text())
        app.route(event["resource"], method=event["httpMethod"])(lambda: {"status": "ok"})
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
            replays[case.sample] = {"first": stack.record(case, fresh=True), "warm": stack.record(case)}
        stack.prepare()
        stack.stop_aws()
        for case in CASES:
            warm = replays[case.sample]["warm"]
            results["cases"].append(
                {
                    "name": case.name,
                    "sample": case.sample,
                    "calls": calls(warm),
                    "first_request_calls": calls(replays[case.sample]["first"]),
                    **time_case(stack, case, warm, bare, args.iterations),
                }
            )
        results["breakdown"] = breakdown(stack, replays[CASES[0].sample]["warm"], args.iterations)
        results["function_env"] = stack.function_env
    finally:
        stack.close()
    (args.out / "warm.json").write_text(json.dumps(results, indent=2))
    with open(args.out / "replays.pickle", "wb") as handle:
        pickle.dump(replays, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
