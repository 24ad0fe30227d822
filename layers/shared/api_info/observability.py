"""The one place that creates the Powertools Logger, Tracer and Metrics every function uses, and the
control that keeps AWS SDK and HTTP library debug output from ever carrying a credential."""

from __future__ import annotations

import logging
import warnings
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer

# Libraries whose DEBUG records hold request and response bodies and headers: botocore logs
# PutSecretValue's SecretString and GetSecretValue's answer, the HTTP clients log what they send.
WITHHELD = ("botocore", "boto3", "s3transfer", "urllib3", "httpx", "httpcore")
WITHHELD_NOTE = " [arguments withheld: this library's debug output can hold credentials]"


def _withheld(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in WITHHELD)


class _WithholdLibraryDebugArguments:
    """A LogRecord factory: a DEBUG record of those libraries keeps its format string (written by the
    library's authors) and loses its arguments (the data).

    A factory sees every record before any logger level, filter or handler does, so no logging
    configuration (`boto3.set_stream_logger("botocore", logging.DEBUG)`, a root handler at DEBUG,
    a level set on one child logger) can bring the data back.
    """

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        if record.levelno < logging.INFO and _withheld(record.name):
            if record.args:
                record.msg = str(record.msg) + WITHHELD_NOTE
            else:  # no arguments: the message itself could be data; keep none of it
                record.msg = "debug output" + WITHHELD_NOTE
            record.args = None
        return record


def install_log_redaction() -> None:
    """Install the factory once per process (idempotent), and keep those loggers quiet by default."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _WithholdLibraryDebugArguments):
        logging.setLogRecordFactory(_WithholdLibraryDebugArguments(factory))
    for name in ("botocore", "httpx", "httpcore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)


install_log_redaction()

logger = Logger(service="api-info")
# X-Ray patches botocore (every AWS call) and http.client (the JWKS fetch) at init. Not patch_all:
# it would import httpx (and sqlite3) in every container, though only routes that call Atlassian
# need httpx; trace_httpx() patches it when the Atlassian client is first made.
tracer = Tracer(service="api-info", patch_modules=("botocore", "httplib"))
metrics = Metrics(namespace="FlexibleUserLicense", service="api-info")
# A GET, a refusal or an uninstall publishes no metric, on purpose; Powertools would write a UserWarning
# to the function's log for it in every new container. The filter Powertools' docs give for this.
warnings.filterwarnings("ignore", "No application metrics to publish*")


@cache
def trace_httpx() -> None:
    """Make each httpx request an X-Ray subsegment (when tracing is on); call before creating a client."""
    tracer.patch(("httpx",))
