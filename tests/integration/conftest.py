"""Fixtures of the credential checks' integration tests."""

from __future__ import annotations

import pytest

from tests.support.checks import Checks


@pytest.fixture
def checks(aws: dict[str, str]) -> Checks:
    """The check queue, the worker and dispatcher, and a capture of the events on the service's bus."""
    return Checks(aws)
