"""The one place that creates the Powertools Logger, Tracer and Metrics every function uses."""

import logging

from aws_lambda_powertools import Logger, Metrics, Tracer

# botocore at DEBUG prints request bodies, and PutSecretValue's body is a secret.
logging.getLogger("botocore").setLevel(logging.WARNING)
logging.getLogger("httpx").setLevel(logging.WARNING)
logging.getLogger("httpcore").setLevel(logging.WARNING)

logger = Logger(service="api-info")
tracer = Tracer(service="api-info")
metrics = Metrics(namespace="FlexibleUserLicense", service="api-info")
