"""With SnapStart (template.yaml's SnapStart parameter), what to load before Lambda takes the snapshot.

A function's first request imports what some routes never need (PyJWT with cryptography, httpx) and
builds those clients lazily. Under SnapStart, init runs once, at publish time, and every new
container resumes from its snapshot, so loading them before the snapshot costs nothing per container
and spares each container's first request. No client or connection is made here: a connection or
credentials would not survive the snapshot. Without SnapStart the hook is never called.
"""

from __future__ import annotations


def prime() -> None:
    """Import what the first request of an /api-info route would otherwise import."""
    import httpx  # noqa: F401
    import jwt.algorithms  # noqa: F401 - PyJWT and cryptography's RSA backend

    from api_info.observability import trace_httpx

    trace_httpx()


def register() -> bool:
    """Register `prime` to run before the snapshot; False outside Lambda's Python runtime."""
    try:
        from snapshot_restore_py import register_before_snapshot  # type: ignore[import-not-found]
    except ImportError:
        return False
    register_before_snapshot(prime)
    return True
