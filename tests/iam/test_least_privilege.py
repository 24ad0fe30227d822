"""Least privilege, proven: each flow runs every function under exactly its template role's policies, and
fails on any call IAM would deny; then every action each role is granted must have been used by a flow."""

from __future__ import annotations

import pytest

from tests.iam.flows import FLOWS, KEPT, World
from tests.support.iam import Denial

_ran: set[str] = set()


def run(world: World, name: str) -> None:
    """Run one flow; any call IAM would deny fails it, even one the code absorbs, and names the grant."""
    denials = world.stack.evaluator.denials
    denials.clear()
    _ran.add(name)
    try:
        FLOWS[name](world)
    except Exception as exc:
        if denials:  # the denial is the cause; the wrong answer that followed is only its symptom
            raise AssertionError(_denied(denials)) from exc
        raise
    assert not denials, _denied(denials)


def _denied(denials: list[Denial]) -> str:
    return "denied:\n" + "\n".join(f"  {d}" for d in denials)


@pytest.mark.parametrize("name", list(FLOWS))
def test_the_flow_needs_no_permission_its_role_lacks(iam_world: World, name: str) -> None:
    run(iam_world, name)


def test_every_granted_action_is_used_by_some_flow(iam_world: World) -> None:
    for name in FLOWS:  # when only some flows were selected, the others run here
        if name not in _ran:
            run(iam_world, name)
    unused = []
    for role, policies in sorted(iam_world.stack.role_policies.items()):
        for document in policies.values():
            for statement in document["Statement"]:
                actions = (
                    statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                )
                for action in actions:
                    used = (role, statement["Sid"], action) in iam_world.stack.evaluator.used
                    if not used and (statement["Sid"], action) not in KEPT:
                        unused.append(f"  {role}: {statement['Sid']} grants {action}, which no flow uses")
    assert not unused, "granted but never used:\n" + "\n".join(unused)
