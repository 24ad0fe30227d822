"""Counts what a request costs: AWS API calls (botocore event hooks) and Atlassian HTTP requests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from api_info.wiring import services
from local.atlassian_sim import AtlassianSimulator


@dataclass
class Calls:
    """The AWS operations (service, operation) and Atlassian requests (method, path) of a block."""

    aws: list[tuple[str, str]] = field(default_factory=list)
    atlassian: list[tuple[str, str]] = field(default_factory=list)

    def count(self, service: str) -> int:
        return sum(1 for name, _ in self.aws if name == service)

    @property
    def by_operation(self) -> Counter[str]:
        return Counter(f"{service}.{operation}" for service, operation in self.aws)


@contextmanager
def counting(simulator: AtlassianSimulator) -> Iterator[Calls]:
    """Record every API call the store's clients make, and every request the simulator receives.

    `before-call` fires once per API call (retries happen below it), so a call that fails, such as a
    conditional write refused, is counted once, as AWS bills it.
    """
    calls = Calls()

    def hook(model: Any, **kwargs: Any) -> None:
        calls.aws.append((model.service_model.service_name, model.name))

    clients = [services().tenants.dynamodb, services().secrets.client]
    for client in clients:
        client.meta.events.register("before-call.*.*", hook, unique_id="count-calls")
    seen = len(simulator.requests)
    try:
        yield calls
    finally:
        for client in clients:
            client.meta.events.unregister("before-call.*.*", unique_id="count-calls")
        calls.atlassian = list(simulator.requests[seen:])
