"""A container's init without the cycle collector: every function imports this module first.

Loading a handler leaves 80,000 to 100,000 objects for the collector to track and almost no garbage,
yet the collector ran about 185 times during a change function's init, 30 to 50 ms (docs/PERFORMANCE.md,
"Cold start (2026-12-08)"). So the collector is off while the function loads, and `ready()`, at the end
of its init (`api.handler`, or the last line of a function without HTTP), moves what init built to the
permanent generation (`gc.freeze()`) and turns the collector back on: later collections, the first
request's included, no longer walk what init built. Reference counting frees objects as always; only
reference cycles left over from init are never collected, once per container.
"""

from __future__ import annotations

import gc

# Only when this module turned the collector off does `ready()` freeze and turn it back on: a process
# that had it off already (the test suite, between its own collections) keeps it so.
_OFF_UNTIL_READY = gc.isenabled()
gc.disable()


def ready() -> None:
    """The end of init: freeze what it built and turn the collector back on (once per process)."""
    global _OFF_UNTIL_READY
    if _OFF_UNTIL_READY:
        _OFF_UNTIL_READY = False
        gc.freeze()
        gc.enable()
