"""Schemathesis hooks for the fuzz run (SCHEMATHESIS_HOOKS=tests.e2e.schemathesis_hooks).

Every request gets credentials as real callers have them: a fresh Forge Invocation Token and system token
of a Jira administrator from the local stack's development issuer (Forge's tokens serve one call and live
25 s, so nothing is cached), or, on the operators' /ops routes, the local stand-in for a SigV4 signature.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import schemathesis

STACK_URL = os.environ.get("API_INFO_STACK_URL", "http://127.0.0.1:3000")
INSTALLATION = os.environ.get("API_INFO_FUZZ_INSTALLATION", "fuzz")
OPERATOR_ARN = "arn:aws:iam::123456789012:user/fuzz-operator"


@schemathesis.auth(refresh_interval=None)
class LocalStackCredentials:
    def get(self, case: Any, ctx: Any) -> dict[str, str]:
        if case.operation.path.startswith("/ops/"):
            return {"X-Local-Iam-User-Arn": OPERATOR_ARN}
        answer = httpx.post(
            f"{STACK_URL}/dev/token", params={"installation": INSTALLATION, "account": "admin"}, timeout=10
        )
        answer.raise_for_status()
        headers: dict[str, str] = answer.json()["headers"]
        return headers

    def set(self, case: Any, data: dict[str, str], ctx: Any) -> None:
        case.headers = {**(case.headers or {}), **data}
