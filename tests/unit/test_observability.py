"""What an operator finds in a function's log when a request publishes no metric."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A fresh interpreter, as a new Lambda container is: the handlers' Metrics, flushed with nothing in it.
FLUSH_NOTHING = """
from api_info.observability import metrics
metrics.flush_metrics()
"""


def test_a_request_that_publishes_no_metric_writes_no_warning_to_the_log() -> None:
    result = subprocess.run(  # noqa: S603 (this test's own snippet)
        [sys.executable, "-W", "default", "-c", FLUSH_NOTHING],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT / "layers" / "shared"), "POWERTOOLS_METRICS_NAMESPACE": "Test"},
        check=True,
    )

    assert (result.stdout, result.stderr) == ("", "")
