"""The one place that creates the Powertools Logger, Tracer and Metrics every function uses."""

import logging
from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer

# botocore at DEBUG prints request bodies, and PutSecretValue's body is a secret.
logging.getLogger("botocore").setLevel(logging.WARNING)
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

logger = Logger(service="api-info")
# X-Ray patches botocore (every AWS call) and http.client (the JWKS fetch) at init. Not patch_all:
# it would import httpx (and sqlite3) in every container, though only routes that call Atlassian
# need httpx; trace_httpx() patches it when the Atlassian client is first made.
tracer = Tracer(service="api-info", patch_modules=("botocore", "httplib"))
metrics = Metrics(namespace="FlexibleUserLicense", service="api-info")


@cache
def trace_httpx() -> None:
    """Make each httpx request an X-Ray subsegment (when tracing is on); call before creating a client."""
    tracer.patch(("httpx",))
