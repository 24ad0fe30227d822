"""The least-privilege stack: moto's server with enforcement on, shared by the flows of one module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.iam.flows import World, world


@pytest.fixture(scope="module")
def iam_world() -> Iterator[World]:
    with world() as w:
        yield w
