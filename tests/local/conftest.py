"""The Atlassian simulator's tests: one simulator per module, and a client of it per test."""

from collections.abc import Iterator

import httpx
import pytest

from local.atlassian_sim import AtlassianSimulator


@pytest.fixture(scope="module")
def sim() -> Iterator[AtlassianSimulator]:
    simulator = AtlassianSimulator()
    simulator.slow_seconds = 0.3
    simulator.start()
    yield simulator
    simulator.stop()


@pytest.fixture()
def http(sim: AtlassianSimulator) -> Iterator[httpx.Client]:
    """A client of the simulator, which has forgotten earlier tests' requests and settings."""
    sim.reset()
    with httpx.Client(base_url=sim.url, follow_redirects=False) as client:
        yield client
