"""The least-privilege test's teeth: take one grant out at a time and see which flows then fail.

    make iam-ablation     (python -m tests.iam.ablation; several minutes, outside `make test`)

Each action of each statement of every function's role (the whole statement when it has one action), and
each statement of the key policy the functions use, is removed in turn; the flows whose baseline run used
it run again, with fresh tenants. A grant no flow needs is reported and fails the run. A flow "fails" when
the evaluator denies a call, whether or not its answer changes ("denial only": the code absorbed it).
The table printed is the one in docs/SECURITY.md.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.iam.flows import FLOWS, KEPT, World, world


@dataclass
class Outcome:
    denied: bool  # the evaluator denied at least one call
    wrong: bool  # the flow's own assertions failed (a wrong answer, or an error)


def attempt(w: World, name: str, round_number: int) -> Outcome:
    w.start_round(round_number)
    w.stack.evaluator.denials.clear()
    try:
        FLOWS[name](w)
        wrong = False
    except Exception:
        wrong = True
    return Outcome(bool(w.stack.evaluator.denials), wrong)


@contextmanager
def quiet() -> Iterator[None]:
    """The functions log to stdout (as in Lambda); keep them off the table this prints."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            yield
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def main() -> int:
    rows, unneeded = [], []
    with quiet(), world() as w:
        evaluator = w.stack.evaluator
        used_by: dict[tuple[str, str, str], list[str]] = {}
        for name in FLOWS:
            evaluator.used.clear()
            outcome = attempt(w, name, 0)
            assert not outcome.denied and not outcome.wrong, f"{name} fails with every grant in place"
            for grant in evaluator.used:
                used_by.setdefault(grant, []).append(name)
        grants = [
            (role, statement["Sid"], action)
            for role, policies in sorted(w.stack.role_policies.items())
            for document in policies.values()
            for statement in document["Statement"]
            for action in (
                statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            )
        ]
        key_statements = [s["Sid"] for s in evaluator.key_policy["Statement"]]
        round_number = 0
        for role, sid, action in grants + [("SecretsKey", sid, "") for sid in key_statements]:
            if role == "SecretsKey":
                flows = sorted({f for (r, s, _), fs in used_by.items() if (r, s) == (role, sid) for f in fs})
                if not flows:
                    continue  # a key policy statement for other principals (administrators, services)
                ablated = _without_key_statement(w, sid)
            else:
                flows = sorted(set(used_by.get((role, sid, action), [])))
                ablated = w.stack.without(role, sid, action)
            wrong, absorbed = [], []
            with ablated:
                for name in flows:
                    round_number += 1
                    outcome = attempt(w, name, round_number)
                    if outcome.denied:
                        (wrong if outcome.wrong else absorbed).append(name)
            short = role.removeprefix("api-info-iam-")
            grant = f"{sid}: {action}" if action else f"{sid} (key policy)"
            if wrong or absorbed:
                failing = f"{len(wrong)} wrong answer, {len(absorbed)} denial only"
                example = (wrong or absorbed)[0]
            elif (sid, action) in KEPT:
                failing, example = "none", f"kept: {KEPT[(sid, action)]}"
            else:
                unneeded.append(f"{short} {grant}")
                failing, example = "**none: not needed**", ""
            rows.append(f"| {short} | {grant} | {failing} | {example} |")
            print(f"{short} {grant}: {failing} of {len(flows)}", file=sys.stderr, flush=True)
    print("| Role or key | Grant removed | Flows that then fail | For example |")
    print("|---|---|---|---|")
    print("\n".join(rows))
    if unneeded:
        print(f"\nNot needed by any flow: {', '.join(unneeded)}", file=sys.stderr)
        return 1
    return 0


@contextmanager
def _without_key_statement(w: World, sid: str) -> Iterator[None]:
    evaluator = w.stack.evaluator
    key_policy = evaluator.key_policy
    evaluator.key_policy = {
        **key_policy,
        "Statement": [s for s in key_policy["Statement"] if s["Sid"] != sid],
    }
    try:
        yield
    finally:
        evaluator.key_policy = key_policy


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Not sys.exit: a thread the functions' code leaves behind kept the interpreter from ending.
    os._exit(code)
