"""Runs the real Lambda handlers on the sample events in events/, as API Gateway would call them.

The machinery lives in local/ (local.lambdas, local.api_client), which the benchmarks share; the tests
import it from here, with the accounts and the operator they act as.
"""

from __future__ import annotations

from local.api_client import APP_ID, SYSTEM_TOKEN, Answer, Api, JwksServer, as_operator
from local.atlassian_sim import ADMIN_ACCOUNT as ADMIN
from local.atlassian_sim import USER_ACCOUNT as NOT_ADMIN
from local.lambdas import REPO, LambdaContext, load_handlers, reset_container_caches

OPERATOR = "arn:aws:iam::123456789012:user/alice"

__all__ = [
    "ADMIN",
    "APP_ID",
    "NOT_ADMIN",
    "OPERATOR",
    "REPO",
    "SYSTEM_TOKEN",
    "Answer",
    "Api",
    "JwksServer",
    "LambdaContext",
    "as_operator",
    "load_handlers",
    "reset_container_caches",
]
