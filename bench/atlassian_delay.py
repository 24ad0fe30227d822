"""A save's wait for Atlassian, as a multiple of Atlassian's delay: `python -m bench.atlassian_delay`.

Every answer of the stand-in Atlassian (respx, bench/stack.py) comes `--delay-ms` after it is asked
(150 ms by default); the tenant is known, the administrator's answer cached, each listing one page. A
key save and a token save are timed on the invocation's own thread, where the calls that follow the
first answer go side by side (as deployed), and on another thread, where the service makes its calls in
a row (as every save did before; the check worker's threads still do). Each figure is the median of the
rounds, as a multiple of the delay; the goal is at most 2.5 side by side. AWS is moto, in process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

GOAL = 2.5


def delayed(route: Any, seconds: float) -> None:
    """Make a respx route answer what it answers, `seconds` later."""
    answer = route.return_value

    def later(request: Any) -> Any:
        time.sleep(seconds)
        return answer

    route.side_effect = later


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.atlassian_delay", description=__doc__)
    parser.add_argument("--delay-ms", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)

    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    os.environ["CHANGE_ATTEMPTS_LIMIT"] = "100000"  # the rounds are no abuse
    from bench.stack import CHANGE_KEY, CHANGE_TOKEN, Stack

    lines = [f"Atlassian answers {args.delay_ms} ms after each request; median of {args.rounds} rounds"]
    lines.append("save latency / delay     in a row   side by side")
    delay = args.delay_ms / 1000
    other = ThreadPoolExecutor(max_workers=1)  # off the invocation's thread: the calls in a row
    with contextlib.redirect_stdout(io.StringIO()):  # each invocation's EMF metrics blob
        stack = Stack()
        try:
            stack.prepare()
            for route in stack.router.routes:
                if not route.is_pass_through:  # the JWKS is Forge's, and fetched already
                    delayed(route, delay)
            for case in (CHANGE_KEY, CHANGE_TOKEN):
                row = [other.submit(timed, stack, case).result() / delay for _ in range(args.rounds)]
                side = [timed(stack, case) / delay for _ in range(args.rounds)]
                in_a_row, side_by_side = statistics.median(row), statistics.median(side)
                met = "met" if side_by_side <= GOAL else "NOT MET"
                lines.append(
                    f"  {case.name:<22} {in_a_row:>6.2f}x   {side_by_side:>6.2f}x   (goal <= {GOAL}x: {met})"
                )
        finally:
            stack.close()
            other.shutdown()
    print("\n".join(lines))
    return 0


def timed(stack: Any, case: Any) -> float:
    started = time.perf_counter()
    answer = stack.call(case)
    took = time.perf_counter() - started
    if answer["statusCode"] != 200:
        raise RuntimeError(f"{case.name} answered {answer['statusCode']}: {answer.get('body')}")
    return took


if __name__ == "__main__":
    raise SystemExit(main())
