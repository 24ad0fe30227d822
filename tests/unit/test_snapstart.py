"""SnapStart priming: registered with Lambda's hook library when it is there, harmless when it is not."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable

import pytest

from api_info import snapstart


def test_outside_lambda_nothing_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", None)  # makes the import fail

    assert snapstart.register() is False


def test_in_lambda_the_priming_runs_before_the_snapshot(monkeypatch: pytest.MonkeyPatch) -> None:
    registered: list[Callable[[], None]] = []
    hooks = types.ModuleType("snapshot_restore_py")
    hooks.register_before_snapshot = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", hooks)

    assert snapstart.register() is True
    assert registered == [snapstart.prime]
    registered[0]()  # what Lambda does before the snapshot: loads, connects nothing
    assert {"jwt", "httpx", "cryptography.hazmat.primitives.asymmetric.rsa"} <= set(sys.modules)
